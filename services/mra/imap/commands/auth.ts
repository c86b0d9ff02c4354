/** Not-authenticated state (RFC 3501 §6.2): STARTTLS, LOGIN, AUTHENTICATE PLAIN (RFC 4616, SASL-IR RFC 4959). */
import { defineCommand, no, type Session } from '../command.ts';
import { astring, count } from '../args.ts';
import { ArgumentError } from '../command.ts';

const NOT_AUTHENTICATED = ['not-authenticated'] as const;

function privacyRequired(session: Session) {
  return session.plaintextAuthAllowed ? undefined : no('Log in over TLS first (STARTTLS)', 'PRIVACYREQUIRED');
}

export const starttls = defineCommand({
  states: NOT_AUTHENTICATED,
  allowsExpunge: true,
  parse: (args) => count(args, 0),
  async handle(session) {
    if (!session.tlsAvailable) return no('TLS is not available');
    if (session.secure) return { status: 'BAD', text: 'TLS is already active' };
    return { status: 'OK', text: 'Begin TLS negotiation now', then: 'starttls' };
  },
});

export const login = defineCommand({
  states: NOT_AUTHENTICATED,
  allowsExpunge: true,
  parse(args) {
    count(args, 2);
    return { username: astring(args[0], 'user name'), password: astring(args[1], 'password') };
  },
  async handle(session, { username, password }) {
    return privacyRequired(session) ?? session.login(username, password);
  },
});

/** `\0user\0password` (authorization identity must be empty or the same user). */
function decodePlain(data: string): { username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/u.test(data)) return undefined;
  const parts = Buffer.from(data, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid = '', username = '', password = ''] = parts;
  if (authzid !== '' && authzid !== username) return undefined;
  return { username, password };
}

export const authenticate = defineCommand({
  states: NOT_AUTHENTICATED,
  allowsExpunge: true,
  parse(args) {
    count(args, 1, 2);
    const mechanism = astring(args[0], 'mechanism').toUpperCase();
    const initial = args[1] === undefined ? undefined : astring(args[1], 'initial response');
    if (initial !== undefined && !/^[A-Za-z0-9+/=]+$/u.test(initial)) throw new ArgumentError('initial response must be base64 or =');
    return { mechanism, initial };
  },
  async handle(session, { mechanism, initial }) {
    if (mechanism !== 'PLAIN') return no(`Unsupported mechanism ${mechanism.slice(0, 20)}`);
    const refused = privacyRequired(session);
    if (refused) return refused;
    let data = initial === '=' ? '' : initial;
    if (data === undefined) {
      await session.send({ kind: 'continuation', text: '' });
      data = (await session.nextLine()).toString('latin1').trim();
      if (data === '*') return { status: 'BAD', text: 'AUTHENTICATE cancelled' };
    }
    const credentials = decodePlain(data);
    if (!credentials) return { status: 'BAD', text: 'Invalid PLAIN response' };
    return session.login(credentials.username, credentials.password);
  },
});
