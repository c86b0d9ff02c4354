/**
 * SMTP replies the MTA chooses itself, in one table: reply code, RFC 3463 enhanced status
 * code and text. smtp-server sends `responseCode` and `message` of an error thrown from a
 * handler, so an SmtpReplyError carries the enhanced code at the start of its message
 * (`550 5.7.1 Relay access denied`). ENHANCEDSTATUSCODES is advertised: MtaConnection
 * sends such a text as it is (no second code) and gives smtp-server's own replies theirs,
 * correcting its table (which maps by reply code only, every 550 to 5.1.1) where needed.
 */

export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

export const REPLIES = {
  /** RFC 5321 §3.6.2: an MX accepts only its own and its backed-up domains without AUTH. */
  relayDenied: { code: 550, enhanced: '5.7.1', text: 'Relay access denied' },
  /** Unknown local recipient, refused at RCPT, never accepted and bounced later. */
  unknownUser: { code: 550, enhanced: '5.1.1', text: 'Recipient address rejected: User unknown in local recipient table' },
  /** A backup MX's relay_recipient_maps: the primary would refuse this user, so the backup does too (no backscatter). */
  unknownRelayUser: { code: 550, enhanced: '5.1.1', text: 'Recipient address rejected: User unknown in relay recipient table' },
  badRecipient: { code: 501, enhanced: '5.1.3', text: 'Bad recipient address syntax' },
  /** RFC 7505 §4.1: the recipient's domain publishes a null MX; refused at RCPT on submission, never queued. */
  nullMx: { code: 556, enhanced: '5.1.10', text: 'Recipient address rejected: the domain accepts no mail (null MX, RFC 7505)' },
  badSender: { code: 501, enhanced: '5.1.7', text: 'Bad sender address syntax' },
  /** RFC 4954 §6: MAIL before AUTH on submission. */
  authRequired: { code: 530, enhanced: '5.7.0', text: 'Authentication required' },
  authInvalid: { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  /** RFC 4954 §6 454: too many failures from this address, locked out for a while. */
  authLockedOut: { code: 454, enhanced: '4.7.0', text: 'Too many failed authentications, try again later' },
  senderNotOwned: { code: 553, enhanced: '5.7.1', text: 'Sender address rejected: not owned by user' },
  /** Issue 19 item 6: a From or Sender field naming an address the login does not own. */
  authorNotOwned: { code: 550, enhanced: '5.7.1', text: 'From/Sender header address not owned by user' },
  tooManyRecipients: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' },
  messageTooBig: { code: 552, enhanced: '5.3.4', text: 'Message size exceeds fixed maximum message size' },
  /**
   * SMTP smuggling (CVE-2023-51764 class): RFC 5321 §2.3.8 allows CR and LF in DATA only
   * together as CRLF. A bare LF or bare CR could make another server see the end of
   * DATA (`<LF>.<LF>`, `<LF>.<CR><LF>`) where we do not, so such a message is refused
   * whole — not normalized — with 554 5.6.0 (RFC 3463 "other or undefined media error").
   */
  bareLineEnding: { code: 554, enhanced: '5.6.0', text: 'Message refused: bare CR or LF in DATA (RFC 5321 section 2.3.8)' },
  lineTooLong: { code: 554, enhanced: '5.6.0', text: 'Message refused: line longer than 1000 octets (RFC 5321 section 4.5.3.1.6)' },
  /** Enqueue failed: the client must retry, we never said 250. */
  queueFailed: { code: 451, enhanced: '4.3.0', text: 'Temporary failure: message not queued, try again later' },
  /** RFC 3463 4.3.1 "mail system full": the queue's disk is full (ENOSPC, EDQUOT), as Postfix's 452 4.3.1. */
  queueFull: { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage, try again later' },
  /** Caller down, slow, or tempfail verdict (issue 6: 451 4.7.1 unless fail-open). */
  scanUnavailable: { code: 451, enhanced: '4.7.1', text: 'Message could not be scanned, try again later' },
  virusFound: { code: 554, enhanced: '5.7.1', text: 'Message refused: virus found' },
  spamRejected: { code: 550, enhanced: '5.7.1', text: 'Message refused as spam' },
  /** RFC 7489 §6.7: the From domain's DMARC policy is p=reject and the message fails it. */
  dmarcRejected: { code: 550, enhanced: '5.7.1', text: 'Message refused by DMARC policy' },
  /** RFC 7489 §6.6.3 / RFC 7208 §2.6.6: temperror, the sender retries; RFC 3463 X.4.3 directory (DNS) failure. */
  authTempfail: { code: 451, enhanced: '4.4.3', text: 'Sender authentication could not be checked, try again later' },
  tooManyConnections: { code: 421, enhanced: '4.7.0', text: 'Too many connections from your address, try again later' },
  /** Postfix postscreen's pregreet verdict. */
  earlyTalker: { code: 554, enhanced: '5.5.1', text: 'Protocol error: talking before the greeting' },
  internalError: { code: 451, enhanced: '4.3.0', text: 'Internal error, try again later' },
} as const satisfies Record<string, SmtpReply>;

export type ReplyName = keyof typeof REPLIES;

export function formatReply(reply: SmtpReply): string {
  return `${reply.code} ${reply.enhanced} ${reply.text}`;
}

/** An error smtp-server turns into the reply `code enhanced text`. */
export class SmtpReplyError extends Error {
  override readonly name = 'SmtpReplyError';
  readonly responseCode: number;
  readonly enhanced: string;

  constructor(reply: SmtpReply, options?: { cause?: unknown }) {
    super(`${reply.enhanced} ${reply.text}`, options);
    this.responseCode = reply.code;
    this.enhanced = reply.enhanced;
  }
}

export function replyError(name: ReplyName, detail?: string, cause?: unknown): SmtpReplyError {
  const reply = REPLIES[name];
  const text = detail ? `${reply.text} (${detail})` : reply.text;
  return new SmtpReplyError({ ...reply, text }, { cause });
}
