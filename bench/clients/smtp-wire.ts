/** SMTP reply parsing (RFC 5321 §4.2) and DATA framing (§4.5.2), without sockets. */
import type { WireBuffer } from '../wire/wire-buffer.ts';

export interface SmtpReply {
  code: number;
  lines: string[];
}

/** A parser for one reply: `250-a` lines continue, `250 b` ends it; partial replies wait. */
export function smtpReplyParser(): (buffer: WireBuffer) => SmtpReply | undefined {
  const lines: string[] = [];
  return (buffer) => {
    for (let line = buffer.line(); line !== undefined; line = buffer.line()) {
      const match = /^(\d{3})([ -]?)(.*)$/u.exec(line);
      if (!match) throw new Error(`not an SMTP reply line: ${JSON.stringify(line)}`);
      lines.push(match[3] ?? '');
      if (match[2] !== '-') return { code: Number(match[1]), lines };
    }
    return undefined;
  };
}

/** The message as sent after DATA: CRLF line ends, leading dots doubled, `.` line at the end. */
export function dataPayload(message: Buffer): Buffer {
  let text = message.toString('latin1').replace(/\r?\n/gu, '\r\n');
  if (text.startsWith('.')) text = `.${text}`;
  text = text.replace(/\r\n\./gu, '\r\n..');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(`${text}.\r\n`, 'latin1');
}
