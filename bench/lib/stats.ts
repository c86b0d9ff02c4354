/** Latency summaries: nearest-rank percentiles (the definition smtp-source and most load tools use). */

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Nearest-rank percentile of `sorted` (ascending); NaN for an empty list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((total, value) => total + value, 0);
  return {
    count: list.length,
    p50Ms: round(percentile(list, 50)),
    p99Ms: round(percentile(list, 99)),
    maxMs: round(list.at(-1) ?? Number.NaN),
    meanMs: round(list.length === 0 ? Number.NaN : sum / list.length),
  };
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Events per second over a duration in milliseconds. */
export function perSecond(count: number, ms: number): number {
  return ms <= 0 ? Number.NaN : round((count * 1000) / ms, 1);
}
