/** Removing whole header fields (folded lines included) from a raw CRLF message; the rest is untouched byte for byte. */
import { splitMessage } from '../smtp/message.ts';

export function removeHeaderFields(message: Buffer, drop: (name: string, value: string) => boolean): Buffer {
  const { header, rest } = splitMessage(message);
  if (header === '') return message;
  const fields: string[] = [];
  for (const line of header.split('\r\n')) {
    if (/^[ \t]/u.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  const kept = fields.filter((field) => {
    const colon = field.indexOf(':');
    if (colon <= 0) return true;
    return !drop(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).replace(/\r\n[ \t]/gu, ' ').trim());
  });
  if (kept.length === fields.length) return message;
  const head = kept.map((field) => `${field}\r\n`).join('');
  return Buffer.concat([Buffer.from(head, 'latin1'), rest]);
}
