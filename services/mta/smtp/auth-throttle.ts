/**
 * Slows down and then locks out password guessing per client address: each failure in a
 * row makes the next 535 wait longer, and after AUTH_LOCKOUT_FAILURES the address gets
 * 454 4.7.0 for AUTH_LOCKOUT_MS. A success clears the address's count.
 */
import {
  AUTH_FAILURE_DELAY_MS,
  AUTH_LOCKOUT_FAILURES,
  AUTH_LOCKOUT_MS,
  AUTH_MAX_FAILURE_DELAY_MS,
} from './limits.ts';

/** Addresses tracked at once; the oldest are forgotten beyond this. */
const MAX_TRACKED_ADDRESSES = 10_000;

export interface AuthThrottleOptions {
  failureDelayMs?: number;
  maxFailureDelayMs?: number;
  lockoutFailures?: number;
  lockoutMs?: number;
  now?: () => number;
}

interface Record {
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
}

export class AuthThrottle {
  private readonly records = new Map<string, Record>();
  private readonly failureDelayMs: number;
  private readonly maxFailureDelayMs: number;
  private readonly lockoutFailures: number;
  private readonly lockoutMs: number;
  private readonly now: () => number;

  constructor(options: AuthThrottleOptions = {}) {
    this.failureDelayMs = options.failureDelayMs ?? AUTH_FAILURE_DELAY_MS;
    this.maxFailureDelayMs = options.maxFailureDelayMs ?? AUTH_MAX_FAILURE_DELAY_MS;
    this.lockoutFailures = options.lockoutFailures ?? AUTH_LOCKOUT_FAILURES;
    this.lockoutMs = options.lockoutMs ?? AUTH_LOCKOUT_MS;
    this.now = options.now ?? Date.now;
  }

  isLockedOut(address: string): boolean {
    const record = this.records.get(address);
    return record !== undefined && record.lockedUntil > this.now();
  }

  /** Counts a failure; returns how long to wait before answering and whether the address is now locked. */
  recordFailure(address: string): { delayMs: number; lockedOut: boolean } {
    const now = this.now();
    let record = this.records.get(address);
    if (record && record.lockedUntil !== 0 && record.lockedUntil <= now) record = undefined;
    if (record && now - record.lastFailureAt > this.lockoutMs) record = undefined;
    const failures = (record?.failures ?? 0) + 1;
    const lockedUntil = failures >= this.lockoutFailures ? now + this.lockoutMs : 0;
    this.records.delete(address);
    this.records.set(address, { failures, lockedUntil, lastFailureAt: now });
    if (this.records.size > MAX_TRACKED_ADDRESSES) {
      const oldest = this.records.keys().next();
      if (!oldest.done) this.records.delete(oldest.value);
    }
    return { delayMs: Math.min(this.maxFailureDelayMs, failures * this.failureDelayMs), lockedOut: lockedUntil !== 0 };
  }

  recordSuccess(address: string): void {
    this.records.delete(address);
  }
}
