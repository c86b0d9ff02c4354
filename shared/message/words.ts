/**
 * Header text as a reader sees it: RFC 2047 encoded words (`=?utf-8?B?…?=`, `?Q?`)
 * decoded in their charset, and raw 8-bit UTF-8 (RFC 6532) read as the characters it
 * spells. Header octets come in as latin1 strings (shared/message/headers.ts).
 */

/** Octets in a named charset; unknown charsets fall back to latin1 (every byte kept). */
export function decodeCharset(data: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder((charset ?? '').trim().toLowerCase() || 'utf-8').decode(data);
  } catch {
    return data.toString('latin1');
  }
}

/** RFC 2045 §6.7 quoted-printable (`underscores`: RFC 2047 §4.2 Q, where `_` is a space). */
export function decodeQuotedPrintable(text: string, underscores: boolean): Buffer {
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
