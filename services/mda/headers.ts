/**
 * What the MDA reads from and adds to a message's header (RFC 5322 §2.2): the header
 * fields it looks at (X-Spam-Flag, Message-ID, the top Received header's id) and the
 * delivery trace it prepends per recipient (Return-Path, Delivered-To, Received). The
 * fields come from the one header reader, shared/message/headers.ts.
 */
import { fieldValue, type HeaderField } from '../../shared/message/headers.ts';

/**
 * SpamAssassin's and the caller's tag `X-Spam-Flag: YES`, or the MTA's DMARC quarantine
 * note `X-Mxlab-Quarantine` (services/mta/auth/verify.ts), files the message into Junk.
 */
export function isSpamFlagged(fields: readonly HeaderField[]): boolean {
  return fields.some((field) => (field.key === 'x-spam-flag' && /^yes\b/iu.test(field.value)) || field.key === 'x-mxlab-quarantine');
}

export function messageIdOf(fields: readonly HeaderField[]): string | undefined {
  return fieldValue(fields, 'message-id');
}

/** The `id` clause of the topmost Received header: the queue id of the MTA that handed it over. */
export function queueIdOf(fields: readonly HeaderField[]): string | undefined {
  const received = fieldValue(fields, 'received');
  if (received === undefined) return undefined;
  return /(?:^|\s)id\s+([^\s;]+)/u.exec(received)?.[1];
}

function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f<>]/gu, '');
}

/**
 * The per-recipient trace, topmost first, as Postfix's local(8) writes it:
 * `Return-Path: <sender>` (RFC 5321 §4.4, `<>` for bounces), `Delivered-To: rcpt`, then
 * the Received header built by shared/received.ts (already CRLF-terminated).
 */
export function deliveryHeaders(input: { mailFrom: string; deliveredTo: string; received: string }): Buffer {
  return Buffer.from(
    `Return-Path: <${clean(input.mailFrom)}>\r\nDelivered-To: ${clean(input.deliveredTo)}\r\n${input.received}`,
    'utf8',
  );
}

const CRLF = Buffer.from('\r\n');

/**
 * Messages are stored with CRLF line ends, as they travel on the wire (RFC 5322 §2.1), so
 * that a file's size is the size IMAP and POP3 announce; a bare LF from a sloppy client
 * becomes CRLF. A message that is already all CRLF is returned as is.
 */
export function withCrlf(message: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let lf = message.indexOf(0x0a); lf !== -1; lf = message.indexOf(0x0a, lf + 1)) {
    if (lf > 0 && message[lf - 1] === 0x0d) continue;
    parts.push(message.subarray(start, lf), CRLF);
    start = lf + 1;
  }
  if (parts.length === 0) return message;
  parts.push(message.subarray(start));
  return Buffer.concat(parts);
}
