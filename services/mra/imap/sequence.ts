/**
 * RFC 3501 §9 sequence-set: `1,3:5,7:*`. `*` is the highest number in use (the message
 * count for sequence numbers, the highest UID for UID sets); `n:m` may be written either way.
 */

export interface SequenceRange {
  /** undefined stands for `*` */
  from: number | undefined;
  to: number | undefined;
}

const RANGE = /^(\d+|\*)(?::(\d+|\*))?$/u;

export function parseSequenceSet(text: string): SequenceRange[] | undefined {
  if (text === '$') return undefined;
  const ranges: SequenceRange[] = [];
  for (const part of text.split(',')) {
    const match = RANGE.exec(part);
    if (!match) return undefined;
    const from = match[1] === '*' ? undefined : Number(match[1]);
    const to = match[2] === undefined ? from : match[2] === '*' ? undefined : Number(match[2]);
    if (from === 0 || to === 0 || (from !== undefined && !Number.isSafeInteger(from)) || (to !== undefined && !Number.isSafeInteger(to))) return undefined;
    ranges.push({ from, to });
  }
  return ranges;
}

/** Whether `value` is in the set, with `*` standing for `star`. */
export function inSequenceSet(ranges: readonly SequenceRange[], value: number, star: number): boolean {
  for (const range of ranges) {
    const a = range.from ?? star;
    const b = range.to ?? star;
    if (value >= Math.min(a, b) && value <= Math.max(a, b)) return true;
  }
  return false;
}

/** Sequence numbers 1..count named by the set (ascending, no duplicates); out-of-range numbers are dropped. */
export function expandSequenceSet(ranges: readonly SequenceRange[], count: number): number[] {
  const result = new Set<number>();
  for (const range of ranges) {
    const a = range.from ?? count;
    const b = range.to ?? count;
    const low = Math.max(1, Math.min(a, b));
    const high = Math.min(count, Math.max(a, b));
    for (let n = low; n <= high; n += 1) result.add(n);
  }
  return [...result].sort((x, y) => x - y);
}

/** Compact form of ascending numbers: `1:3,7,9:10` (for COPYUID and ESEARCH-like codes). */
export function formatSequenceSet(values: readonly number[]): string {
  const parts: string[] = [];
  let start: number | undefined;
  let previous: number | undefined;
  for (const value of values) {
    if (start !== undefined && previous !== undefined && value === previous + 1) {
      previous = value;
      continue;
    }
    if (start !== undefined) parts.push(start === previous ? `${start}` : `${start}:${previous}`);
    start = value;
    previous = value;
  }
  if (start !== undefined) parts.push(start === previous ? `${start}` : `${start}:${previous}`);
  return parts.join(',');
}
