/**
 * Dovecot's auth penalty (auth_penalty.c), shared by every login path: IMAP and POP3 (one
 * per MRA), submission (per MTA) and the web mail, which hands the browser's address to
 * IMAP (ID `x-originating-ip`, trusted from MRA_TRUSTED_NETWORKS only).
 *
 * Per client address, each failed login in a row delays the next attempt: 2 s, 4 s,
 * 8 s, then 15 s. An attempt is counted *before* its password is checked, so parallel
 * guesses queue up behind each other instead of all being checked at once; a success
 * clears the address. Only addresses are penalised, never accounts: the real user
 * logs in from elsewhere at full speed while someone guesses her password. A success
 * also releases the attempts of the same user from that address still waiting, so a
 * phone and a desktop (or 8 sessions) logging in at once are not queued as guesses are.
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
  /** Attempts counted and not yet cleared by a success. */
  count: number;
  lastAt: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class AuthPenalty {
  private readonly entries = new Map<string, Entry>();
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

  /** Failures counted for an address now (0 once its penalty timed out). */
  failures(client: string): number {
    const entry = this.entries.get(client);
    return entry && this.now() - entry.lastAt <= this.timeoutMs ? entry.count : 0;
  }

  /**
   * Counts an attempt from `client`, waits out its penalty, then runs the check. A
   * result other than undefined is a success and clears the address; with `user` (the
   * login name), it also wakes that user's attempts from `client` still waiting.
   */
  async attempt<T>(client: string, check: () => Promise<T | undefined>, user?: string): Promise<T | undefined> {
    const before = this.failures(client);
    this.entries.delete(client);
    this.entries.set(client, { count: before + 1, lastAt: this.now() });
    while (this.entries.size > this.maxAddresses) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    const delay = this.delayFor(before);
    if (delay > 0) await this.wait(client, user, delay);
    const result = await check();
    if (result !== undefined) {
      this.entries.delete(client);
      if (user !== undefined) for (const waiter of this.waiting.get(client) ?? []) if (waiter.user === user.toLowerCase()) waiter.wake();
    }
    return result;
  }

  /** Sleeps `ms`, or less when a success of the same user from the same address wakes it. */
  private async wait(client: string, user: string | undefined, ms: number): Promise<void> {
    if (user === undefined) return this.sleep(ms);
    let waiters = this.waiting.get(client);
    if (!waiters) this.waiting.set(client, (waiters = new Set()));
    let wake = (): void => undefined;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const waiter = { user: user.toLowerCase(), wake };
    waiters.add(waiter);
    try {
      await Promise.race([this.sleep(ms), woken]);
    } finally {
      waiters.delete(waiter);
      if (waiters.size === 0) this.waiting.delete(client);
    }
  }
}
