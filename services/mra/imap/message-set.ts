/** Turns a sequence set of a command into the messages of the selected mailbox it names. */
import { ArgumentError } from './command.ts';
import type { SelectedMailbox } from './selected.ts';
import { expandSequenceSet, inSequenceSet, type SequenceRange } from './sequence.ts';

export interface Target {
  seq: number;
  uid: number;
}

/**
 * A message sequence number beyond the mailbox is an error (RFC 3501 §9 seq-number,
 * RFC 9051 §6.4.5: BAD), as Dovecot answers. `*` is the last message, so `n:*` names
 * messages that exist when n does; in an empty mailbox a set with `*` names nothing
 * (answered OK, as clients that fetch `1:*` after `0 EXISTS` expect).
 */
function checkSequenceNumbers(ranges: readonly SequenceRange[], count: number): void {
  for (const { from, to } of ranges) {
    if (count === 0 && (from === undefined || to === undefined)) continue;
    if ((from ?? 0) > count || (to ?? 0) > count) throw new ArgumentError(`invalid message sequence number (the mailbox has ${count} messages)`);
  }
}

export function resolveSet(selected: SelectedMailbox, ranges: readonly SequenceRange[], byUid: boolean): Target[] {
  const uids = selected.allUids();
  if (!byUid) {
    checkSequenceNumbers(ranges, uids.length);
    return expandSequenceSet(ranges, uids.length).map((seq) => ({ seq, uid: uids[seq - 1] ?? 0 }));
  }
  const star = uids[uids.length - 1] ?? 0;
  const targets: Target[] = [];
  uids.forEach((uid, i) => {
    if (inSequenceSet(ranges, uid, star)) targets.push({ seq: i + 1, uid });
  });
  return targets;
}
