/**
 * What an IMAP client may hold before it has logged in (issue 19, item 7): anonymous
 * clients get little memory, few slots per address and a fixed time to log in, as in
 * Dovecot's login processes. After login the normal limits apply (reader.ts, listener.ts).
 */

/**
 * Largest literal before login: enough for a user name or password as a literal (LOGIN,
 * AUTHENTICATE); Dovecot's login process reads at most a few KiB per command. Larger
 * ones get NO [TOOBIG] without being read (reader.ts).
 */
export const PRELOGIN_MAX_LITERAL_BYTES = 8 * 1024;
/**
 * Connections from one client address that have not logged in yet; one more is greeted
 * with BYE. Generous, because in compose every host client comes from the Docker gateway
 * and the web mail opens one connection per user (each logs in at once).
 */
export const PRELOGIN_MAX_PER_ADDRESS = 20;
/**
 * From connect to a successful login, however busy the client keeps the line (the
 * idle timer restarts on every byte, this does not): Dovecot's login timeout is 1 minute.
 */
export const LOGIN_DEADLINE_MS = 60_000;

/** Counts not-yet-authenticated connections per client address. */
export class PreloginSlots {
  private readonly counts = new Map<string, number>();
  private readonly max: number;

  constructor(max: number = PRELOGIN_MAX_PER_ADDRESS) {
    this.max = max;
  }

  /** A release function for the new slot (call it at login or close; more calls do nothing), or undefined when full. */
  admit(address: string | undefined): (() => void) | undefined {
    const key = address ?? 'unknown';
    const count = this.counts.get(key) ?? 0;
    if (count >= this.max) return undefined;
    this.counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }
}
