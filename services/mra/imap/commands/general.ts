/** Commands valid in any state (RFC 3501 §6.1) plus ID (RFC 2971) and ENABLE (RFC 5161). */
import { AUTHENTICATED, ANY_STATE, ArgumentError, defineCommand, ok } from '../command.ts';
import { none, atom } from '../args.ts';
import { str, untagged, type ImapValue } from '../encode.ts';

export const capability = defineCommand({
  states: ANY_STATE,
  allowsExpunge: true,
  parse: none,
  async handle(session) {
    await session.send(untagged('CAPABILITY', ...session.capabilities()));
    return ok('CAPABILITY completed');
  },
});

/** NOOP and CHECK: the session sends the pending untagged updates before the tagged OK. */
export const noop = defineCommand({
  states: ANY_STATE,
  allowsExpunge: true,
  parse: none,
  async handle(session) {
    await session.selected?.handle.sync();
    return ok('NOOP completed');
  },
});

export const logout = defineCommand({
  states: ANY_STATE,
  allowsExpunge: true,
  parse: none,
  async handle(session) {
    await session.send({ kind: 'status', tag: undefined, status: 'BYE', text: `${session.hostname} logging out` });
    return { status: 'OK', text: 'LOGOUT completed', then: 'logout' };
  },
});

/** RFC 2971: the client's parameters are only logged. */
export const id = defineCommand({
  states: ANY_STATE,
  allowsExpunge: true,
  parse(args) {
    if (args.length !== 1) throw new ArgumentError('ID takes one argument: a list or NIL');
    const [arg] = args;
    if (arg?.type === 'nil') return [];
    if (arg?.type !== 'list' || arg.items.length > 60) throw new ArgumentError('ID takes a list of field-value pairs or NIL');
    return arg.items.map((item) => (item.type === 'string' ? item.value.toString('utf8').slice(0, 1024) : item.type === 'atom' ? item.value : ''));
  },
  async handle(session, fields) {
    if (fields.length > 0) session.logger.info({ clientId: fields }, 'client ID');
    session.noteClientId?.(fields);
    const info: ImapValue[] = [str('name'), str('mxlab'), str('vendor'), str('mxlab'), str('support-url'), str('https://example.invalid/mxlab')];
    await session.send(untagged('ID', info));
    return ok('ID completed');
  },
});

/** RFC 5161; CONDSTORE is the only extension this server enables. */
export const enable = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse(args) {
    if (args.length === 0) throw new ArgumentError('ENABLE needs at least one capability');
    return args.map((arg) => atom(arg, 'capability').toUpperCase());
  },
  async handle(session, names) {
    const enabled: string[] = [];
    for (const name of names) {
      if (name === 'CONDSTORE' && !session.enabled.has(name)) {
        session.enabled.add(name);
        if (session.selected) session.selected.condstore = true;
        enabled.push(name);
      }
    }
    await session.send(untagged('ENABLED', ...enabled));
    return ok('ENABLE completed');
  },
});
