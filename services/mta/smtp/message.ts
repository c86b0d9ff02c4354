/**
 * The few header operations the SMTP front end needs on a raw CRLF message (RFC 5322):
 * find a header, add Message-ID and Date on submission (RFC 6409 §8.2, §8.3), prepend
 * trace and verdict headers. The body is never touched.
 */
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../../../shared/received.ts';

const HEADER_END = Buffer.from('\r\n\r\n');

/** Header block (without the blank line) and the rest (blank line and body). */
export function splitMessage(message: Buffer): { header: string; rest: Buffer } {
  if (message.subarray(0, 2).toString('latin1') === '\r\n') return { header: '', rest: message };
  const end = message.indexOf(HEADER_END);
  if (end === -1) return { header: message.toString('latin1').replace(/\r\n$/u, ''), rest: Buffer.from('\r\n') };
  return { header: message.subarray(0, end).toString('latin1'), rest: message.subarray(end + 2) };
}

/** First value of header `name`, unfolded and trimmed; undefined when absent. */
export function headerValue(message: Buffer, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const unfolded = splitMessage(message).header.replace(/\r\n(?=[ \t])/gu, '');
  for (const line of unfolded.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trimEnd().toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return undefined;
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
