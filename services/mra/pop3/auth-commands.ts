/**
 * The AUTHORIZATION-state commands (RFC 1939 §4 and §7, RFC 2449 CAPA, RFC 2595 STLS,
 * RFC 5034 AUTH PLAIN) and the one login path they share: authenticate, slow down
 * failures, then lock and open the maildrop.
 */
import type { CommandSpec, Pop3Context } from './context.ts';
import { AUTH_FAILURE_DELAY_MS, MAX_AUTH_FAILURES } from './limits.ts';
import { err, ok, type Reply } from './replies.ts';

/** Plain-text credentials are accepted over TLS, or without it where the config allows. */
function canSendPassword(context: Pop3Context): boolean {
  return context.secure || context.services.allowPlaintextAuth;
}

const NEEDS_TLS = err('plain-text login is disabled without TLS; use STLS first', 'AUTH');

export async function login(context: Pop3Context, username: string, password: string): Promise<Reply> {
  const { users, maildrops, delay, domains, penalty } = context.services;
  const check = async () => {
    const found = await users.authenticate(username, password);
    return found && (!domains || domains.has(found.domain)) ? found : undefined;
  };
  const account = penalty ? await penalty.attempt(context.remoteAddress ?? 'unknown', check, username) : await check();
  if (!account) {
    context.authFailures += 1;
    context.log.info({ user: username, failures: context.authFailures }, 'login failed');
    await delay(AUTH_FAILURE_DELAY_MS * context.authFailures);
    const tooMany = context.authFailures >= MAX_AUTH_FAILURES;
    return err(tooMany ? 'authentication failed; too many failures, goodbye' : 'authentication failed', 'AUTH', tooMany ? 'close' : undefined);
  }
  let maildrop;
  try {
    maildrop = await maildrops.open(account);
  } catch (error) {
    context.log.error({ err: error, user: account.address }, 'cannot open maildrop');
    return err('cannot open the maildrop now, try again later', 'SYS/TEMP');
  }
  if (maildrop === 'locked') {
    context.log.info({ user: account.address }, 'maildrop in use');
    return err('maildrop already locked by another session', 'IN-USE');
  }
  context.account = account;
  context.maildrop = maildrop;
  context.state = 'transaction';
  context.pendingUser = undefined;
  context.log.info({ user: account.address, messages: maildrop.count }, 'login');
  return ok(`${account.address} has ${maildrop.count} messages (${maildrop.octets} octets)`);
}

/** RFC 4616 PLAIN message: authzid NUL authcid NUL passwd. */
async function saslPlain(context: Pop3Context, base64: string): Promise<Reply> {
  if (base64 === '*') return err('authentication cancelled');
  const text = base64 === '=' ? '' : base64;
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/u.test(text)) {
    return err('invalid base64 in the SASL response', 'AUTH');
  }
  const parts = Buffer.from(text, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return err('malformed PLAIN response', 'AUTH');
  const [authzid = '', authcid = '', password = ''] = parts;
  if (authzid !== '' && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return err('authorization identity must be the login name', 'AUTH');
  }
  return login(context, authcid, password);
}

export function capabilities(context: Pop3Context): string[] {
  const lines = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (context.state === 'authorization') {
    if (canSendPassword(context)) lines.push('USER', 'SASL PLAIN');
    if (context.services.tlsAvailable && !context.secure) lines.push('STLS');
  }
  lines.push('IMPLEMENTATION mxlab');
  return lines;
}

export const authCommands: [string, CommandSpec][] = [
  ['CAPA', { states: ['authorization', 'transaction'], handler: (context) => ok('capability list follows', { lines: capabilities(context) }) }],
  [
    'USER',
    {
      states: ['authorization'],
      handler(context, args) {
        if (!canSendPassword(context)) return NEEDS_TLS;
        if (args.length !== 1 || args[0] === undefined) return err('usage: USER name');
        context.pendingUser = args[0];
        return ok('send PASS');
      },
    },
  ],
  [
    'PASS',
    {
      states: ['authorization'],
      handler(context, _args, rest) {
        if (!canSendPassword(context)) return NEEDS_TLS;
        const user = context.pendingUser;
        context.pendingUser = undefined;
        if (user === undefined) return err('send USER first');
        return login(context, user, rest);
      },
    },
  ],
  [
    'AUTH',
    {
      states: ['authorization'],
      handler(context, args) {
        if (args.length === 0) return ok('SASL mechanisms follow', { lines: canSendPassword(context) ? ['PLAIN'] : [] });
        if (args[0]?.toUpperCase() !== 'PLAIN') return err('unsupported SASL mechanism');
        if (!canSendPassword(context)) return NEEDS_TLS;
        const initial = args[1];
        if (initial !== undefined) return saslPlain(context, initial);
        context.continuation = (line) => saslPlain(context, line.trim());
        return { kind: 'challenge', text: '' };
      },
    },
  ],
  [
    'STLS',
    {
      states: ['authorization'],
      handler(context) {
        if (context.secure) return err('TLS is already active');
        if (!context.services.tlsAvailable) return err('STLS is not available');
        return ok('begin TLS negotiation', { then: 'starttls' });
      },
    },
  ],
];
