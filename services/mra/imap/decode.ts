/** Text of a message as a reader sees it, for SEARCH: encoded words (RFC 2047) and body encodings (RFC 2045) decoded. */
import type { MimePart } from './mime.ts';
import { fieldValue } from './mime.ts';

function decodeCharset(data: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(data);
  } catch {
    return data.toString('latin1');
  }
}

function decodeQuotedPrintable(text: string, underscores: boolean): Buffer {
  const source = underscores ? text.replace(/_/gu, ' ') : text.replace(/=\r?\n/gu, '');
  const bytes: number[] = [];
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i] ?? '';
    const hex = source.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/u.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(char.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Header text read as latin1 octets; raw 8-bit UTF-8 (RFC 6532 headers) as the characters it spells. */
function rawHeaderText(value: string): string {
  if (!/[\u0080-\u00ff]/u.test(value)) return value;
  try {
    return strictUtf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** `=?utf-8?B?…?=` words in a header value (octets as latin1), decoded; raw UTF-8 too. */
export function decodeWords(value: string): string {
  return rawHeaderText(value)
    .replace(/(\?=)\s+(=\?)/gu, '$1$2')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/gu, (_, charset: string, encoding: string, text: string) => {
      const data = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(text, true);
      return decodeCharset(data, charset.split('*')[0] ?? 'utf-8');
    });
}

export function decodeBody(part: MimePart): string {
  const encoding = (fieldValue(part.fields, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  const raw = part.body.toString('latin1');
  const data = encoding === 'base64' ? Buffer.from(raw.replace(/\s+/gu, ''), 'base64') : encoding === 'quoted-printable' ? decodeQuotedPrintable(raw, false) : part.body;
  const charset = part.params.find(([key]) => key === 'charset')?.[1] ?? 'utf-8';
  return decodeCharset(data, charset === 'us-ascii' ? 'utf-8' : charset);
}

/** Every text part's decoded content, encapsulated messages included. */
export function bodyText(part: MimePart): string {
  if (part.children.length > 0) return part.children.map(bodyText).join('\n');
  if (part.message) return `${decodeWords(part.message.header.toString('latin1'))}\n${bodyText(part.message)}`;
  return part.type === 'text' ? decodeBody(part) : '';
}
