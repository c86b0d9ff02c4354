/**
 * Protocol limits of the MTA's SMTP listeners, each with the rule that motivates it.
 * Advertised where SMTP has a way (SIZE, RFC 1870) and enforced on every listener.
 */

/** RFC 1870 SIZE, advertised in EHLO; RFC 5321 §4.5.3.1.7 asks for at least 64 KB. Over it: 552 5.3.4. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

/** RFC 5321 §4.5.3.1.8: at least 100 recipients must be accepted; the 101st gets 452 4.5.3. */
export const MAX_RECIPIENTS = 100;

/**
 * RFC 5321 §4.5.3.1.4 allows 512 octets per command line, §4.5.3.1.2 lets extensions
 * (SIZE, AUTH initial responses) make it longer; a longer line is skipped and answered
 * 500 5.5.2 (500 5.5.6 inside an AUTH exchange, RFC 4954 §4), as Postfix's line_length_limit.
 */
export const MAX_COMMAND_LINE_BYTES = 2048;

/** RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including CRLF. Longer: 554 5.6.0. */
export const MAX_DATA_LINE_BYTES = 1000;

/** Simultaneous connections from one client address (Postfix smtpd_client_connection_count_limit, same default); over it: 421 4.7.0. */
export const MAX_CONNECTIONS_PER_IP = 50;

/** Simultaneous connections per listener (Postfix: default_process_limit). */
export const MAX_CLIENTS = 200;

/**
 * 4xx/5xx replies in one session before it is closed with 421 4.7.0 (Postfix
 * smtpd_hard_error_limit, same default); a queued message starts the count again.
 */
export const MAX_ERRORS_PER_SESSION = 20;

/**
 * NOOP, VRFY and RSET in one session before each further one counts as an error (Postfix
 * smtpd_junk_command_limit, same default), so a client cannot hold a session open with them.
 */
export const MAX_JUNK_COMMANDS = 100;

/** Commands before AUTH on submission; smtp-server answers 421 after this many. */
export const MAX_UNAUTHENTICATED_COMMANDS = 10;

/**
 * Pregreet test of the MX port (Postfix postscreen_greet_wait): a client that sends
 * anything before our 220 greeting (RFC 5321 §3.1: the client waits for it) is a spam
 * bot; it gets 554. Default of MTA_PREGREET_WAIT_MS; 0 = off.
 */
export const EARLY_TALKER_WAIT_MS = 300;

/** An address that passed the pregreet test is greeted at once this long (postscreen_greet_ttl, 1 day). Default of MTA_PREGREET_TTL_MS. */
export const PREGREET_TTL_MS = 24 * 60 * 60_000;

/** Passed addresses remembered at most; the oldest pass is forgotten first. */
export const PREGREET_CACHE_MAX_ADDRESSES = 100_000;

/** RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for the next command. */
export const IDLE_TIMEOUT_MS = 5 * 60_000;

/** On shutdown, connections still open after this are closed. */
export const CLOSE_TIMEOUT_MS = 3_000;

/** Each failed AUTH from an address waits this much longer before its 535 (tarpit). */
export const AUTH_FAILURE_DELAY_MS = 400;
/** Ceiling of that delay. */
export const AUTH_MAX_FAILURE_DELAY_MS = 4_000;
/** After this many failures in a row an address is locked out (454 4.7.0) ... */
export const AUTH_LOCKOUT_FAILURES = 5;
/** ... for this long (RFC 4954 §4 lets servers refuse AUTH for a while). */
export const AUTH_LOCKOUT_MS = 5 * 60_000;
