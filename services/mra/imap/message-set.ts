/** Turns a sequence set of a command into the messages of the selected mailbox it names. */
import type { SelectedMailbox } from './selected.ts';
import { expandSequenceSet, inSequenceSet, type SequenceRange } from './sequence.ts';

export interface Target {
  seq: number;
  uid: number;
}

export function resolveSet(selected: SelectedMailbox, ranges: readonly SequenceRange[], byUid: boolean): Target[] {
  const uids = selected.allUids();
  if (!byUid) {
    return expandSequenceSet(ranges, uids.length).map((seq) => ({ seq, uid: uids[seq - 1] ?? 0 }));
  }
  const star = uids[uids.length - 1] ?? 0;
  const targets: Target[] = [];
  uids.forEach((uid, i) => {
    if (inSequenceSet(ranges, uid, star)) targets.push({ seq: i + 1, uid });
  });
  return targets;
}
