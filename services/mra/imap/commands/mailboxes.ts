/** Authenticated state (RFC 3501 §6.3): SELECT, EXAMINE, CREATE, DELETE, RENAME, (UN)SUBSCRIBE, STATUS, NAMESPACE. */
import { AUTHENTICATED, ArgumentError, defineCommand, ok, type Session } from '../command.ts';
import { atom, count, list, mailbox } from '../args.ts';
import { astr, untagged, type ImapValue, type Response } from '../encode.ts';
import type { Token } from '../parser.ts';
import { MAX_LITERAL_BYTES } from '../reader.ts';

async function open(session: Session, name: string, readOnly: boolean, condstore: boolean) {
  await session.unselect();
  if (condstore) session.enabled.add('CONDSTORE');
  const handle = await session.mail().open(name);
  const selected = session.select(handle, readOnly);
  const messages = handle.messages();
  // The mailbox's whole keyword list, as Dovecot shows it: a client then knows every keyword
  // others use, even one no message carries right now (imaptest's own_flags relies on it).
  const keywords = new Set<string>(handle.keywords);
  let firstUnseen: number | undefined;
  messages.forEach((message, i) => {
    for (const flag of message.flags) if (!flag.startsWith('\\')) keywords.add(flag);
    if (firstUnseen === undefined && !message.flags.includes('\\Seen')) firstUnseen = i + 1;
  });
  selected.announce(keywords);
  const responses: Response[] = [
    ...selected.flagsResponses(),
    untagged(selected.count, 'EXISTS'),
    untagged(selected.recentCount, 'RECENT'),
  ];
  if (firstUnseen !== undefined) responses.push({ kind: 'status', tag: undefined, status: 'OK', code: `UNSEEN ${firstUnseen}`, text: 'First unseen' });
  responses.push(
    { kind: 'status', tag: undefined, status: 'OK', code: `UIDVALIDITY ${handle.uidValidity}`, text: 'UIDs valid' },
    { kind: 'status', tag: undefined, status: 'OK', code: `UIDNEXT ${handle.uidNext()}`, text: 'Predicted next UID' },
    { kind: 'status', tag: undefined, status: 'OK', code: `HIGHESTMODSEQ ${handle.highestModseq()}`, text: 'Highest' },
  );
  await session.send(...responses);
  return ok(`${readOnly ? 'EXAMINE' : 'SELECT'} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

function selectArgs(args: readonly Token[]) {
  count(args, 1, 2);
  let condstore = false;
  if (args[1] !== undefined) {
    for (const item of list(args[1], 'select parameters')) {
      const name = atom(item, 'select parameter').toUpperCase();
      if (name !== 'CONDSTORE') throw new ArgumentError(`unknown select parameter ${name.slice(0, 20)}`);
      condstore = true;
    }
  }
  return { name: mailbox(args[0]), condstore };
}

const MAILBOX_STATES = ['authenticated', 'selected'] as const;

export const select = defineCommand({
  states: MAILBOX_STATES,
  allowsExpunge: true,
  parse: selectArgs,
  handle: (session, { name, condstore }) => open(session, name, false, condstore),
});

export const examine = defineCommand({
  states: MAILBOX_STATES,
  allowsExpunge: true,
  parse: selectArgs,
  handle: (session, { name, condstore }) => open(session, name, true, condstore),
});

const oneMailbox = (args: readonly Token[]) => {
  count(args, 1);
  return mailbox(args[0]);
};

export const create = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse: oneMailbox,
  async handle(session, name) {
    await session.mail().create(name);
    return ok('CREATE completed');
  },
});

export const del = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse: oneMailbox,
  async handle(session, name) {
    await session.mail().delete(name);
    return ok('DELETE completed');
  },
});

export const rename = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse(args) {
    count(args, 2);
    return { from: mailbox(args[0]), to: mailbox(args[1]) };
  },
  async handle(session, { from, to }) {
    await session.mail().rename(from, to);
    return ok('RENAME completed');
  },
});

export const subscribe = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse: oneMailbox,
  async handle(session, name) {
    await session.mail().subscribe(name, true);
    return ok('SUBSCRIBE completed');
  },
});

export const unsubscribe = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse: oneMailbox,
  async handle(session, name) {
    await session.mail().subscribe(name, false);
    return ok('UNSUBSCRIBE completed');
  },
});

/** APPENDLIMIT: RFC 7889 §3.2 (the capability advertises the same limit). */
const STATUS_ITEMS = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'APPENDLIMIT'] as const;
type StatusItem = (typeof STATUS_ITEMS)[number];

export const status = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse(args) {
    count(args, 2);
    const items = list(args[1], 'status items').map((item) => {
      const name = atom(item, 'status item').toUpperCase();
      if (!(STATUS_ITEMS as readonly string[]).includes(name)) throw new ArgumentError(`unknown status item ${name.slice(0, 20)}`);
      return name as StatusItem;
    });
    if (items.length === 0) throw new ArgumentError('empty status item list');
    return { name: mailbox(args[0]), items };
  },
  async handle(session, { name, items }) {
    const result = await session.mail().status(name);
    const values: Record<StatusItem, number> = {
      MESSAGES: result.messages, RECENT: result.recent, UIDNEXT: result.uidNext, UIDVALIDITY: result.uidValidity, UNSEEN: result.unseen, HIGHESTMODSEQ: result.highestModseq, APPENDLIMIT: MAX_LITERAL_BYTES,
    };
    await session.send(untagged('STATUS', astr(name), items.flatMap((item): ImapValue[] => [item, values[item]])));
    return ok('STATUS completed');
  },
});

export const namespace = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse: (args) => count(args, 0),
  async handle(session) {
    await session.send(untagged('NAMESPACE', [[{ quoted: '' }, { quoted: '.' }]], null, null));
    return ok('NAMESPACE completed');
  },
});

