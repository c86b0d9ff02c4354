/** POP3 protocol limits, each with the section that motivates it. */

/** RFC 2449 §4: a command line is at most 255 octets including the CRLF. */
export const MAX_COMMAND_LINE_OCTETS = 255;
/**
 * RFC 5034 §4 lets SASL continuation lines be longer than commands; this bounds what one
 * line may buffer before it is refused (and what an endless line without LF costs us).
 */
export const MAX_BUFFERED_LINE_OCTETS = 8 * 1024;
/** RFC 2449 §4: a response line is at most 512 octets including the CRLF. */
export const MAX_RESPONSE_LINE_OCTETS = 512;
/** Bad or unknown commands tolerated before the server says goodbye (as smtp-server does). */
export const MAX_BAD_COMMANDS = 10;
/** RFC 1939 §3: the inactivity autologout timer is at least 10 minutes. */
export const AUTOLOGOUT_MS = 10 * 60_000;
/** Failed logins per connection before it is closed. */
export const MAX_AUTH_FAILURES = 3;
/** Each failed login waits this long times the failures so far before -ERR [AUTH] (RFC 1939 §13, guessing). */
export const AUTH_FAILURE_DELAY_MS = 1_000;
/** A lock file not refreshed for this long belongs to a session that is gone (RFC 1939 §8 lock). */
export const STALE_LOCK_MS = AUTOLOGOUT_MS + 5 * 60_000;
/** How often a held lock file is touched so other processes see it is alive. */
export const LOCK_REFRESH_MS = 60_000;
/** RFC 1939 §7: UIDL unique-ids are 1 to 70 characters from 0x21 to 0x7E. */
export const MAX_UIDL_LENGTH = 70;
