/**
 * The pregreet test of the MX listener, as Postfix postscreen runs it: a new client
 * address waits `waitMs` for our 220, and one that talks first (RFC 5321 §3.1: the
 * client waits for the greeting) is a spam bot. An address that waited is remembered
 * for `ttlMs` (postscreen_greet_ttl) and greeted at once on its next connections, so
 * only the first connection of a well-behaved client pays the wait.
 */
import { PREGREET_CACHE_MAX_ADDRESSES, PREGREET_TTL_MS } from './limits.ts';

export interface PregreetOptions {
  /** 0 turns the test off: every client is greeted at once. */
  waitMs: number;
  ttlMs?: number;
  maxAddresses?: number;
  now?: () => number;
}

export class PregreetCache {
  readonly waitMs: number;
  private readonly ttlMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  /** Address → when its pass expires; insertion order is pass order (oldest first). */
  private readonly passed = new Map<string, number>();

  constructor(options: PregreetOptions) {
    this.waitMs = options.waitMs;
    this.ttlMs = options.ttlMs ?? PREGREET_TTL_MS;
    this.maxAddresses = options.maxAddresses ?? PREGREET_CACHE_MAX_ADDRESSES;
    this.now = options.now ?? Date.now;
  }

  /** How long a new connection from `address` waits before its greeting (0: at once). */
  waitFor(address: string | undefined): number {
    if (this.waitMs === 0 || this.ttlMs === 0) return this.waitMs;
    if (address === undefined) return this.waitMs;
    const expires = this.passed.get(address);
    if (expires === undefined) return this.waitMs;
    if (expires > this.now()) return 0;
    this.passed.delete(address);
    return this.waitMs;
  }

  /** `address` waited for the greeting: greet it at once until the TTL runs out. */
  pass(address: string | undefined): void {
    if (address === undefined || this.waitMs === 0 || this.ttlMs === 0) return;
    this.passed.delete(address);
    this.passed.set(address, this.now() + this.ttlMs);
    while (this.passed.size > this.maxAddresses) {
      const oldest = this.passed.keys().next();
      if (oldest.done === true) break;
      this.passed.delete(oldest.value);
    }
  }

  /** `address` talked before the greeting: forget any earlier pass. */
  fail(address: string | undefined): void {
    if (address !== undefined) this.passed.delete(address);
  }
}
