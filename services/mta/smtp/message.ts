/**
 * The few header operations the SMTP front end needs on a raw CRLF message (RFC 5322):
 * find a header, add Message-ID and Date on submission (RFC 6409 §8.2, §8.3), prepend
 * trace and verdict headers. The body is never touched.
 */
import { randomBytes } from 'node:crypto';
import { headerBounds, readHeader, unfold } from '../../../shared/message/headers.ts';
import { rfc5322Date } from '../../../shared/received.ts';

/** Header block (without the blank line) and the rest (blank line and body). */
export function splitMessage(message: Buffer): { header: string; rest: Buffer } {
  const bounds = headerBounds(message, Number.POSITIVE_INFINITY);
  if (!bounds.complete) return { header: message.subarray(0, bounds.end).toString('latin1'), rest: Buffer.from('\r\n') };
  if (bounds.end === 0) return { header: '', rest: message };
  return { header: message.subarray(0, bounds.end).toString('latin1'), rest: message.subarray(bounds.end + (message[bounds.end] === 0x0d ? 2 : 1)) };
}

/** First value of header `name`, unfolded (RFC 5322 §2.2.3) and trimmed; undefined when absent. */
export function headerValue(message: Buffer, name: string): string | undefined {
  const key = name.toLowerCase();
  const field = readHeader(message, Number.POSITIVE_INFINITY).find((candidate) => candidate.key === key);
  return field && unfold(field.raw);
}

/** Prepends header lines (each without CRLF, or whole folded fields ending in CRLF). */
export function prependHeaders(message: Buffer, fields: readonly string[]): Buffer {
  const text = fields.map((field) => (field.endsWith('\r\n') ? field : `${field}\r\n`)).join('');
  return Buffer.concat([Buffer.from(text, 'utf8'), message]);
}

/** Appends fields at the end of the header block, where a submission server adds what is missing. */
function appendHeaders(message: Buffer, fields: readonly string[]): Buffer {
  if (fields.length === 0) return message;
  const { header, rest } = splitMessage(message);
  const added = fields.map((field) => `${field}\r\n`).join('');
  const head = header === '' ? added : `${header}\r\n${added}`;
  return Buffer.concat([Buffer.from(head.replace(/\r\n$/u, ''), 'latin1'), Buffer.from('\r\n'), rest]);
}

export function newMessageId(hostname: string): string {
  return `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${hostname}>`;
}

/** RFC 6409 §8: a submission server may add Message-ID and Date when the client left them out. */
export function completeSubmittedMessage(message: Buffer, hostname: string, now: Date = new Date()): Buffer {
  const missing: string[] = [];
  if (headerValue(message, 'Message-ID') === undefined) missing.push(`Message-ID: ${newMessageId(hostname)}`);
  if (headerValue(message, 'Date') === undefined) missing.push(`Date: ${rfc5322Date(now)}`);
  return appendHeaders(message, missing);
}
