/**
 * The queue's clock (issue 16, lab only): real time plus an offset that only grows.
 * Retry times and bounce deadlines are hours in real MTAs and stay so; `POST
 * /queue/advance` moves this clock forward so a lesson or a test sees the retry come due,
 * or the bounce, without waiting. The offset lives in memory: a restarted MTA is back on
 * real time, and what was due "later" is due when real time gets there.
 */

/** Longest single step: a month (past any queue lifetime worth teaching). */
export const MAX_ADVANCE_S = 30 * 24 * 3600;

export class QueueClock {
  private offsetMs = 0;
  private readonly base: () => number;

  constructor(base: () => number = Date.now) {
    this.base = base;
  }

  /** Epoch ms on the queue's clock; pass as `now` (a bound arrow). */
  readonly now = (): number => this.base() + this.offsetMs;

  /** Moves the clock forward; returns the new offset in ms. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError('the queue clock only moves forward');
    this.offsetMs += ms;
    return this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }
}
