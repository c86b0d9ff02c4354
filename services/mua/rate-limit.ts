/**
 * Login rate limit: failed logins are counted per client address and per account in a
 * sliding window; over the limit, logins are refused for a while without asking IMAP.
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

  fail(client: string, account: string): void {
    if (this.failures.size > MAX_KEYS) this.failures.clear();
    for (const key of [`c:${client}`, `a:${account.toLowerCase()}`]) this.failures.set(key, [...this.recent(key), this.now()]);
  }

  succeed(account: string): void {
    this.failures.delete(`a:${account.toLowerCase()}`);
  }
}
