/**
 * The `alter-body` outbound fault: the copy of the message this MTA sends to the next hop
 * has one byte of its body changed, as a broken relay, a "helpful" footer or a mangling
 * gateway does; its queue file stays as it was. Any DKIM signature over the body then
 * fails at the next hop (RFC 6376 §3.7: the body hash), while the message still reads and
 * parses: the byte is the first ASCII letter (its case swapped) or digit (one up) of the
 * body outside MIME boundary lines, so base64 and quoted-printable stay valid.
 */

export interface BodyAlteration {
  message: Buffer;
  /** Offset of the changed byte in the message. */
  offset: number;
  before: string;
  after: string;
}

const LF = 0x0a;
const DASH = 0x2d;

function bodyStart(message: Buffer): number | undefined {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 4;
  return lf + 2;
}

function changed(byte: number): number | undefined {
  if (byte >= 0x41 && byte <= 0x5a) return byte + 0x20;
  if (byte >= 0x61 && byte <= 0x7a) return byte - 0x20;
  if (byte >= 0x30 && byte <= 0x39) return byte === 0x39 ? 0x30 : byte + 1;
  return undefined;
}

/** The message with one body byte changed; undefined when its body has no letter or digit to change. */
export function alterOneBodyByte(message: Buffer): BodyAlteration | undefined {
  const start = bodyStart(message);
  if (start === undefined) return undefined;
  let lineStart: number = start;
  while (lineStart < message.length) {
    const end: number = message.indexOf(LF, lineStart);
    const lineEnd: number = end === -1 ? message.length : end;
    // A boundary line (`--boundary`) stays whole, or the MIME structure would break.
    const boundary = message[lineStart] === DASH && message[lineStart + 1] === DASH;
    for (let offset = lineStart; !boundary && offset < lineEnd; offset += 1) {
      const byte = message[offset] ?? 0;
      const replacement = changed(byte);
      if (replacement === undefined) continue;
      const altered = Buffer.from(message);
      altered[offset] = replacement;
      return { message: altered, offset, before: String.fromCharCode(byte), after: String.fromCharCode(replacement) };
    }
    lineStart = lineEnd + 1;
  }
  return undefined;
}
