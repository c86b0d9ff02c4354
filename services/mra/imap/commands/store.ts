/** STORE and UID STORE (RFC 3501 §6.4.6) with UNCHANGEDSINCE and MODIFIED (RFC 7162 §3.2). */
import { SELECTED, ArgumentError, defineCommand, no, ok, type Session } from '../command.ts';
import { atom, flags as flagList, list, number, sequenceSet } from '../args.ts';
import { untagged, type ImapValue, type Response } from '../encode.ts';
import { resolveSet } from '../message-set.ts';
import { formatSequenceSet, type SequenceRange } from '../sequence.ts';
import type { FlagMode } from '../../store/types.ts';
import type { Token } from '../parser.ts';

interface StoreArgs {
  ranges: SequenceRange[];
  unchangedSince: number | undefined;
  mode: FlagMode;
  silent: boolean;
  flags: string[];
}

function parseStore(args: readonly Token[]): StoreArgs {
  if (args.length < 3) throw new ArgumentError('STORE takes a sequence set, an item and flags');
  const ranges = sequenceSet(args[0]);
  let rest = args.slice(1);
  let unchangedSince: number | undefined;
  if (rest[0]?.type === 'list') {
    const modifiers = list(rest[0], 'STORE modifiers');
    if (modifiers.length !== 2 || atom(modifiers[0], 'modifier').toUpperCase() !== 'UNCHANGEDSINCE') throw new ArgumentError('unknown STORE modifier');
    unchangedSince = number(modifiers[1], 'UNCHANGEDSINCE');
    rest = rest.slice(1);
  }
  const item = /^([+-]?)FLAGS(\.SILENT)?$/iu.exec(atom(rest[0], 'STORE item'));
  if (!item) throw new ArgumentError('STORE item must be FLAGS, +FLAGS or -FLAGS (optionally .SILENT)');
  const values = rest.slice(1);
  if (values.length === 0) throw new ArgumentError('missing flags');
  const flags = values.length === 1 && values[0]?.type === 'list' ? flagList(values[0]) : values.flatMap((value) => flagList(value));
  const mode: FlagMode = item[1] === '+' ? 'add' : item[1] === '-' ? 'remove' : 'set';
  return { ranges, unchangedSince, mode, silent: item[2] !== undefined, flags };
}

/** The flags a STORE would leave (`\Recent` is never among them: RFC 3501 §2.3.2). */
function applyMode(current: readonly string[], mode: FlagMode, flags: readonly string[]): string[] {
  const lower = new Set(flags.map((flag) => flag.toLowerCase()));
  if (mode === 'set') return [...flags];
  if (mode === 'remove') return current.filter((flag) => !lower.has(flag.toLowerCase()));
  const have = new Set(current.map((flag) => flag.toLowerCase()));
  return [...current, ...flags.filter((flag) => !have.has(flag.toLowerCase()))];
}

async function store(session: Session, args: StoreArgs, byUid: boolean) {
  const selected = session.selected;
  if (!selected) throw new Error('no mailbox selected');
  if (selected.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
  if (args.unchangedSince !== undefined) {
    session.enabled.add('CONDSTORE');
    selected.condstore = true;
  }
  const targets = resolveSet(selected, args.ranges, byUid);
  const { changed, modified } = await selected.handle.setFlags(targets.map((t) => t.uid), args.mode, args.flags, args.unchangedSince);
  const changedUids = new Set(changed.map((change) => change.uid));
  const modifiedUids = new Set(modified);
  // A keyword a STORE names (even -FLAGS) is announced in FLAGS at once, whichever messages
  // took it (none, when they were expunged meanwhile or .SILENT was asked), as Dovecot does.
  const responses: Response[] = selected.keywordUpdates(args.flags);
  for (const { seq, uid } of targets) {
    const record = selected.record(uid);
    if (!record) {
      // Expunged by another session, still in this client's view: nothing is stored, but
      // the client hears the flags it asked for (RFC 2180 §4.2.1), as Dovecot answers.
      const last = selected.lastKnown(uid);
      if (!last || args.unchangedSince !== undefined) continue;
      const shown = applyMode(last.flags, args.mode, args.flags);
      selected.keepStored(last, shown);
      if (args.silent) continue;
      const values: ImapValue[] = [];
      if (byUid) values.push('UID', uid);
      responses.push(...selected.keywordUpdates(shown));
      values.push('FLAGS', selected.flagsOf({ uid, flags: shown }));
      responses.push(untagged(seq, 'FETCH', values));
      continue;
    }
    if (modifiedUids.has(uid)) continue;
    if (changedUids.has(uid)) selected.markReported(uid, record.modseq);
    responses.push(...selected.keywordUpdates(record.flags));
    // .SILENT still reports the new MODSEQ under CONDSTORE (RFC 7162 §3.2).
    if (args.silent && !(selected.condstore && changedUids.has(uid))) continue;
    const values: ImapValue[] = [];
    if (byUid) values.push('UID', uid);
    if (!args.silent) values.push('FLAGS', selected.flagsOf(record));
    if (selected.condstore) values.push('MODSEQ', [record.modseq]);
    responses.push(untagged(seq, 'FETCH', values));
  }
  await session.send(...responses);
  const verb = `${byUid ? 'UID ' : ''}STORE`;
  if (modified.length > 0) {
    const names = byUid ? modified : targets.filter((t) => modifiedUids.has(t.uid)).map((t) => t.seq);
    return ok(`Conditional ${verb} failed for some messages`, `MODIFIED ${formatSequenceSet(names)}`);
  }
  // A message another session expunged has no flags left to change: it is skipped and
  // the others are stored (RFC 2180 §4.2.1), as Dovecot answers: plain OK.
  return ok(`${verb} completed`);
}

export const storeCommand = defineCommand({ states: SELECTED, allowsExpunge: false, parse: parseStore, handle: (s, a) => store(s, a, false) });
export const uidStore = defineCommand({ states: SELECTED, allowsExpunge: true, parse: parseStore, handle: (s, a) => store(s, a, true) });
