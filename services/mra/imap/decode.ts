/** Text of a message as a reader sees it, for SEARCH: encoded words (RFC 2047) and body encodings (RFC 2045) decoded. */
import type { MimePart } from './mime.ts';
import { fieldValue } from './mime.ts';
import { decodeCharset, decodeQuotedPrintable, decodeWords } from '../../../shared/message/words.ts';

export { decodeWords };

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
