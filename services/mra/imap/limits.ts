/** An IMAP session's limits (session.ts); those before login are in prelogin.ts. */

/** This many BAD replies in a row end the session (as smtp-server's 421 after bad commands). */
export const MAX_BAD_COMMANDS = 10;
/** Failed logins per connection before BYE. */
export const MAX_AUTH_FAILURES = 3;
/** RFC 3501 §5.4: the autologout timer is at least 30 minutes once authenticated. */
export const AUTOLOGOUT_MS = 30 * 60_000;
/** Before login a quiet client is dropped sooner. */
export const PREAUTH_TIMEOUT_MS = 60_000;
/** Commands framed but not yet run, before reading pauses. */
export const MAX_QUEUED_COMMANDS = 64;
