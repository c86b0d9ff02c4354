/**
 * Dovecot's auth penalty (auth_penalty.c), shared by every login path: IMAP and POP3 (one
 * per MRA), submission (per MTA) and the web mail, which hands the browser's address to
 * IMAP (ID `x-originating-ip`, trusted from MRA_TRUSTED_NETWORKS only).
 *
 * Per client address, each failed login in a row delays the next attempt: 2 s, 4 s,
 * 8 s, then 15 s. An attempt still being checked counts as a possible failure for the
 * ones that arrive after it, so parallel guesses queue up behind each other instead of
 * all being checked at once; a success clears the address. Only addresses are
 * penalised, never accounts: the real user logs in from elsewhere at full speed while
 * someone guesses her password. An attempt waits for the attempts ahead of it from its
 * address, never longer than that count's delay: when they all succeeded it goes on at
 * once, as Dovecot delays only after failures, so several users behind one address (an
 * office's NAT, every host client of the compose lab) logging in together are not queued
 * as guesses are. A success also releases the same user's attempts still waiting (a
 * phone and a desktop, or 8 sessions, of one user at once).
 *
 * In compose every client on the host reaches the agents from the Docker network's
 * gateway address, so they all share one penalty there (README, "Security model").
 */

/** Dovecot: AUTH_PENALTY_INIT_SECS. */
export const AUTH_PENALTY_INIT_MS = 2_000;
/** Dovecot: AUTH_PENALTY_MAX_SECS. */
export const AUTH_PENALTY_MAX_MS = 15_000;
/** A penalty is forgotten after this long without attempts (Dovecot: AUTH_PENALTY_TIMEOUT). */
export const AUTH_PENALTY_TIMEOUT_MS = 60 * 60_000;
/** Addresses remembered at once; beyond it the least recently seen one is dropped, never all. */
export const AUTH_PENALTY_MAX_ADDRESSES = 10_000;

export interface AuthPenaltyOptions {
  initMs?: number;
  maxMs?: number;
  timeoutMs?: number;
  maxAddresses?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Entry {
  /** Failed attempts in a row, not yet cleared by a success. */
  count: number;
  lastAt: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class AuthPenalty {
  private readonly entries = new Map<string, Entry>();
  /** Attempts being waited out or checked, per address: each settles when its check has. */
  private readonly pending = new Map<string, Set<Promise<void>>>();
  /** Attempts sleeping out a penalty, per address: the user each names and how to wake it. */
  private readonly waiting = new Map<string, Set<{ user: string; wake: () => void }>>();
  private readonly initMs: number;
  private readonly maxMs: number;
  private readonly timeoutMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: AuthPenaltyOptions = {}) {
    this.initMs = options.initMs ?? AUTH_PENALTY_INIT_MS;
    this.maxMs = options.maxMs ?? AUTH_PENALTY_MAX_MS;
    this.timeoutMs = options.timeoutMs ?? AUTH_PENALTY_TIMEOUT_MS;
    this.maxAddresses = options.maxAddresses ?? AUTH_PENALTY_MAX_ADDRESSES;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  /** The delay before an attempt that follows `failures` counted ones. */
  delayFor(failures: number): number {
    if (failures <= 0) return 0;
    return Math.min(this.maxMs, this.initMs * 2 ** Math.min(failures - 1, 30));
  }

  /** Failed attempts counted for an address now (0 once its penalty timed out). */
  failures(client: string): number {
    const entry = this.entries.get(client);
    return entry && this.now() - entry.lastAt <= this.timeoutMs ? entry.count : 0;
  }

  /**
   * Waits out `client`'s penalty, then runs the check. A result other than undefined is
   * a success and clears the address; with `user` (the login name), it also wakes that
   * user's attempts from `client` still waiting. The attempts still pending from the
   * address count as failures for this one's delay until they have settled.
   */
  async attempt<T>(client: string, check: () => Promise<T | undefined>, user?: string): Promise<T | undefined> {
    const startedAt = this.now();
    let pending = this.pending.get(client);
    if (!pending) this.pending.set(client, (pending = new Set()));
    const ahead = [...pending];
    const failures = this.failures(client);
    const cap = this.delayFor(failures + ahead.length);
    let settle = (): void => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    pending.add(settled);
    if (failures > 0) this.record(client, failures);
    try {
      // Until the attempts ahead have settled, or the delay their count asks for is over;
      // then what the failures really counted ask for, never more than that delay.
      const ended = cap > 0 ? await this.wait(client, user, cap, ahead.length > 0 ? Promise.all(ahead) : undefined) : 'slept';
      if (ended === 'settled') {
        const rest = Math.min(cap, this.delayFor(this.failures(client))) - (this.now() - startedAt);
        if (rest > 0) await this.wait(client, user, rest);
      }
      let result: T | undefined;
      try {
        result = await check();
      } finally {
        // No result, or a check that failed to run: a failed login.
        if (result === undefined) this.record(client, this.failures(client) + 1);
      }
      if (result !== undefined) {
        this.entries.delete(client);
        if (user !== undefined) for (const waiter of this.waiting.get(client) ?? []) if (waiter.user === user.toLowerCase()) waiter.wake();
      }
      return result;
    } finally {
      settle();
      pending.delete(settled);
      if (pending.size === 0 && this.pending.get(client) === pending) this.pending.delete(client);
    }
  }

  /** Sets an address's failures and makes it the most recently seen (the least recent goes first when full). */
  private record(client: string, count: number): void {
    this.entries.delete(client);
    this.entries.set(client, { count, lastAt: this.now() });
    while (this.entries.size > this.maxAddresses) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /**
   * Sleeps `ms`, or less: when a success of the same user from the same address wakes it
   * ('woken'), or when `ahead` settles first ('settled').
   */
  private async wait(client: string, user: string | undefined, ms: number, ahead?: Promise<unknown>): Promise<'slept' | 'woken' | 'settled'> {
    const racers: Promise<'slept' | 'woken' | 'settled'>[] = [this.sleep(ms).then(() => 'slept' as const)];
    if (ahead) racers.push(ahead.then(() => 'settled' as const));
    if (user === undefined) return Promise.race(racers);
    let waiters = this.waiting.get(client);
    if (!waiters) this.waiting.set(client, (waiters = new Set()));
    let wake = (): void => undefined;
    racers.push(new Promise<'woken'>((resolve) => (wake = () => resolve('woken'))));
    const waiter = { user: user.toLowerCase(), wake };
    waiters.add(waiter);
    try {
      return await Promise.race(racers);
    } finally {
      waiters.delete(waiter);
      if (waiters.size === 0) this.waiting.delete(client);
    }
  }
}
