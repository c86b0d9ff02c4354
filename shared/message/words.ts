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

/**
 * RFC 2045 §6.7 quoted-printable: `=XX` octets and `=` soft line breaks (blanks allowed
 * before the break); `underscores`: RFC 2047 §4.2 Q, where `_` is a space. One pass into
 * one buffer of at most the text's length, so a body at the SIZE limit costs that much
 * memory (an array of numbers and a string per character once cost 40 times the body).
 */
export function decodeQuotedPrintable(text: string, underscores: boolean): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let size = 0;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i);
    if (char === 0x3d) {
      let next = i + 1;
      while (text.charCodeAt(next) === 0x20 || text.charCodeAt(next) === 0x09) next += 1;
      if (text.charCodeAt(next) === 0x0a) {
        i = next;
        continue;
      }
      if (text.charCodeAt(next) === 0x0d && text.charCodeAt(next + 1) === 0x0a) {
        i = next + 1;
        continue;
      }
      const high = hexDigit(text.charCodeAt(i + 1));
      const low = hexDigit(text.charCodeAt(i + 2));
      if (high >= 0 && low >= 0) {
        out[size++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    out[size++] = underscores && char === 0x5f ? 0x20 : char & 0xff;
  }
  return out.subarray(0, size);
}

/** The value of a hexadecimal digit's character code; -1 for anything else (NaN past the end included). */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
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
