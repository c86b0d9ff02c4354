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

/** Sorted, merged intervals of a set for one value of `*`; built once per set, so a set of thousands of parts costs a binary search per message. */
const compiled = new WeakMap<readonly SequenceRange[], { star: number; intervals: Array<[number, number]> }>();

export function sequenceIntervals(ranges: readonly SequenceRange[], star: number): Array<[number, number]> {
  const cached = compiled.get(ranges);
  if (cached && cached.star === star) return cached.intervals;
  const sorted = ranges
    .map((range): [number, number] => {
      const a = range.from ?? star;
      const b = range.to ?? star;
      return [Math.min(a, b), Math.max(a, b)];
    })
    .sort((x, y) => x[0] - y[0]);
  const intervals: Array<[number, number]> = [];
  for (const [low, high] of sorted) {
    const last = intervals[intervals.length - 1];
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else intervals.push([low, high]);
  }
  compiled.set(ranges, { star, intervals });
  return intervals;
}

/** Whether `value` is in the set, with `*` standing for `star`. */
export function inSequenceSet(ranges: readonly SequenceRange[], value: number, star: number): boolean {
  const intervals = sequenceIntervals(ranges, star);
  let low = 0;
  let high = intervals.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [a, b] = intervals[mid] ?? [0, -1];
    if (value < a) high = mid - 1;
    else if (value > b) low = mid + 1;
    else return true;
  }
  return false;
}

/** Sequence numbers 1..count named by the set (ascending, no duplicates); out-of-range numbers are dropped. */
export function expandSequenceSet(ranges: readonly SequenceRange[], count: number): number[] {
  const result: number[] = [];
  for (const [a, b] of sequenceIntervals(ranges, count)) {
    for (let n = Math.max(1, a); n <= Math.min(count, b); n += 1) result.push(n);
  }
  return result;
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
