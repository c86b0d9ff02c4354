/**
 * Login rate limit: failed logins are counted per client address and per account in a
 * sliding window; over the limit, logins are refused for a while without asking IMAP.
 * An attempt counts from the moment it starts (begin), not once IMAP has answered, so
 * that 20 parallel guesses meet a limit of 5 (issue 19, item 5). The MRA's auth penalty
 * (shared/auth-penalty.ts) then slows the browser's address down on top of this.
 */

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_ACCOUNT = 5;
/** Generous: a class behind one NAT address shares it. */
export const MAX_FAILURES_PER_CLIENT = 50;
/** Bound on remembered keys, so a flood of names cannot grow memory without end. */
const MAX_KEYS = 10_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  private recent(key: string): number[] {
    const since = this.now() - LOGIN_WINDOW_MS;
    const list = (this.failures.get(key) ?? []).filter((at) => at > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Milliseconds until a login may be tried again; 0 when allowed now. */
  retryAfter(client: string, account: string): number {
    const checks: [string, number][] = [[`c:${client}`, MAX_FAILURES_PER_CLIENT], [`a:${account.toLowerCase()}`, MAX_FAILURES_PER_ACCOUNT]];
    let wait = 0;
    for (const [key, max] of checks) {
      const list = this.recent(key);
      const oldest = list[list.length - max];
      if (list.length >= max && oldest !== undefined) wait = Math.max(wait, oldest + LOGIN_WINDOW_MS - this.now());
    }
    return wait;
  }

  /**
   * Starts a login attempt: 0 and the attempt counted as a failure at once (so parallel
   * attempts see each other), or the milliseconds to wait and nothing counted.
   */
  begin(client: string, account: string): number {
    const wait = this.retryAfter(client, account);
    if (wait > 0) return wait;
    for (const key of this.keys(client, account)) {
      const list = [...this.recent(key), this.now()];
      this.failures.delete(key);
      this.failures.set(key, list);
    }
    // The least recently failed keys go first, never all of them at once.
    while (this.failures.size > MAX_KEYS) {
      const oldest = this.failures.keys().next();
      if (oldest.done) break;
      this.failures.delete(oldest.value);
    }
    return 0;
  }

  /** The password was right: the account's count is cleared, the client's attempt uncounted. */
  succeed(client: string, account: string): void {
    this.failures.delete(`a:${account.toLowerCase()}`);
    this.uncount(`c:${client}`);
  }

  /** The attempt never reached a password check (discovery or IMAP down): uncounted. */
  forgive(client: string, account: string): void {
    for (const key of this.keys(client, account)) this.uncount(key);
  }

  private keys(client: string, account: string): [string, string] {
    return [`c:${client}`, `a:${account.toLowerCase()}`];
  }

  private uncount(key: string): void {
    const list = this.failures.get(key);
    if (!list) return;
    list.pop();
    if (list.length === 0) this.failures.delete(key);
  }
}
