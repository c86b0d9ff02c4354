/**
 * POP3 reply reading (RFC 1939 §3): a status line `+OK …` / `-ERR …`, and for the
 * multi-line commands (LIST, UIDL, RETR, TOP) the lines that follow up to a lone `.`.
 * The body is cut at the terminator with one native search, not line by line.
 */
import type { WireBuffer } from '../wire/wire-buffer.ts';

export interface Pop3Reply {
  ok: boolean;
  text: string;
  /** The multi-line body with the terminator removed (still dot-stuffed), when asked for. */
  body?: Buffer;
}

const TERMINATOR = Buffer.from('\r\n.\r\n');
const EMPTY_BODY = Buffer.from('.\r\n');

export function pop3ReplyParser(multiline: boolean): (buffer: WireBuffer) => Pop3Reply | undefined {
  let status: { ok: boolean; text: string } | undefined;
  let searched = 0;
  return (buffer) => {
    if (!status) {
      const line = buffer.line();
      if (line === undefined) return undefined;
      const ok = line.startsWith('+OK');
      if (!ok && !line.startsWith('-ERR')) throw new Error(`not a POP3 status line: ${JSON.stringify(line)}`);
      status = { ok, text: line.replace(/^(\+OK|-ERR) ?/u, '') };
      if (!ok || !multiline) return status;
    }
    const head = buffer.peek(EMPTY_BODY.length);
    if (head === undefined) return undefined;
    if (searched === 0 && head.equals(EMPTY_BODY)) {
      buffer.bytes(EMPTY_BODY.length);
      return { ...status, body: Buffer.alloc(0) };
    }
    const through = buffer.through(TERMINATOR, searched);
    if (through === undefined) {
      searched = Math.max(0, buffer.length - TERMINATOR.length + 1);
      return undefined;
    }
    return { ...status, body: through.subarray(0, through.length - 3) };
  };
}

/** `n uid` lines of a UIDL body. */
export function uidlLines(body: Buffer): string[] {
  const text = body.toString('latin1');
  return text === '' ? [] : text.replace(/\r\n$/u, '').split('\r\n');
}
