/** Selected state (RFC 3501 §6.4): CHECK, CLOSE, UNSELECT (RFC 3691), EXPUNGE, COPY, MOVE (RFC 6851), UID EXPUNGE (RFC 4315). */
import { SELECTED, defineCommand, no, ok, type Session } from '../command.ts';
import { count, mailbox, sequenceSet } from '../args.ts';
import { resolveSet } from '../message-set.ts';
import { formatSequenceSet, type SequenceRange } from '../sequence.ts';
import type { SelectedMailbox } from '../selected.ts';
import type { Token } from '../parser.ts';

function current(session: Session): SelectedMailbox {
  const selected = session.selected;
  if (!selected) throw new Error('no mailbox selected');
  return selected;
}

export const check = defineCommand({
  states: SELECTED,
  allowsExpunge: true,
  parse: (args) => count(args, 0),
  async handle(session) {
    await current(session).handle.sync();
    return ok('CHECK completed');
  },
});

async function deletedUids(selected: SelectedMailbox, within?: readonly number[]): Promise<number[]> {
  await selected.handle.sync();
  const candidates = within ?? selected.allUids();
  return candidates.filter((uid) => selected.record(uid)?.flags.includes('\\Deleted'));
}

export const close = defineCommand({
  states: SELECTED,
  allowsExpunge: true,
  parse: (args) => count(args, 0),
  async handle(session) {
    const selected = current(session);
    if (!selected.readOnly) await selected.handle.expunge(await deletedUids(selected));
    await session.unselect();
    return ok('CLOSE completed');
  },
});

export const unselect = defineCommand({
  states: SELECTED,
  allowsExpunge: true,
  parse: (args) => count(args, 0),
  async handle(session) {
    await session.unselect();
    return ok('UNSELECT completed');
  },
});

export const expunge = defineCommand({
  states: SELECTED,
  allowsExpunge: true,
  parse: (args) => count(args, 0),
  async handle(session) {
    const selected = current(session);
    if (selected.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    await selected.handle.expunge(await deletedUids(selected));
    return ok('EXPUNGE completed');
  },
});

export const uidExpunge = defineCommand({
  states: SELECTED,
  allowsExpunge: true,
  parse(args) {
    count(args, 1);
    return sequenceSet(args[0]);
  },
  async handle(session, ranges) {
    const selected = current(session);
    if (selected.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    const within = resolveSet(selected, ranges, true).map((target) => target.uid);
    await selected.handle.expunge(await deletedUids(selected, within));
    return ok('UID EXPUNGE completed');
  },
});

const setAndMailbox = (args: readonly Token[]) => {
  count(args, 2);
  return { ranges: sequenceSet(args[0]), target: mailbox(args[1]) };
};

async function copy(session: Session, ranges: SequenceRange[], target: string, byUid: boolean, move: boolean) {
  const selected = current(session);
  if (move && selected.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
  const named = resolveSet(selected, ranges, byUid);
  const sources = named.filter((item) => selected.record(item.uid) !== undefined);
  const verb = `${byUid ? 'UID ' : ''}${move ? 'MOVE' : 'COPY'}`;
  // A message in this client's view that another session expunged: nothing is copied
  // (COPY is all or nothing, RFC 3501 §6.4.7), RFC 5530 EXPUNGEISSUED as Dovecot answers.
  if (!byUid && sources.length < named.length) return no('Some of the requested messages no longer exist', 'EXPUNGEISSUED');
  if (sources.length === 0) return ok(`${verb} completed, nothing to do`);
  const result = await selected.handle.copyTo(sources.map((item) => item.uid), target);
  const code = `COPYUID ${result.uidValidity} ${formatSequenceSet(sources.map((item) => item.uid))} ${formatSequenceSet(result.uids)}`;
  if (!move) return ok(`${verb} completed`, code);
  await session.send({ kind: 'status', tag: undefined, status: 'OK', code, text: 'Moved' });
  const removed = await selected.handle.expunge(sources.map((item) => item.uid));
  await session.send(...selected.forgetExpunged(removed));
  return ok(`${verb} completed`);
}

export const copyCommand = defineCommand({ states: SELECTED, allowsExpunge: true, parse: setAndMailbox, handle: (s, a) => copy(s, a.ranges, a.target, false, false) });
export const uidCopy = defineCommand({ states: SELECTED, allowsExpunge: true, parse: setAndMailbox, handle: (s, a) => copy(s, a.ranges, a.target, true, false) });
export const move = defineCommand({ states: SELECTED, allowsExpunge: true, parse: setAndMailbox, handle: (s, a) => copy(s, a.ranges, a.target, false, true) });
export const uidMove = defineCommand({ states: SELECTED, allowsExpunge: true, parse: setAndMailbox, handle: (s, a) => copy(s, a.ranges, a.target, true, true) });

/** RFC 2177: updates are pushed as they happen until the client sends DONE. */
export const idle = defineCommand({
  states: ['authenticated', 'selected'],
  allowsExpunge: true,
  parse: (args) => count(args, 0),
  async handle(session) {
    const selected = session.selected;
    let flushing = Promise.resolve();
    const flush = () => {
      flushing = flushing.then(() => (selected ? session.send(...selected.updates(true)) : undefined));
    };
    await selected?.handle.sync();
    await session.send({ kind: 'continuation', text: 'idling' });
    flush();
    const stop = selected?.handle.onChange(flush);
    const line = await session.nextLine();
    stop?.();
    await flushing;
    if (line.toString('latin1').trim().toUpperCase() !== 'DONE') return { status: 'BAD', text: 'Expected DONE to end IDLE' };
    return ok('IDLE terminated');
  },
});
