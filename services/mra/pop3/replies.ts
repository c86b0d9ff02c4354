/**
 * POP3 replies as values (RFC 1939 §3, RFC 2449 §8 response codes) and the one function
 * that turns them into bytes: status line, multi-line body with byte-stuffing, and the
 * terminating `.` line. Handlers return these; only the session writes them.
 */
import { MAX_RESPONSE_LINE_OCTETS } from './limits.ts';

/** RFC 2449 §8 and RFC 3206: the codes a client may act on. */
export type RespCode = 'AUTH' | 'IN-USE' | 'SYS/TEMP' | 'SYS/PERM' | 'LOGIN-DELAY';

/** What the session does once the reply is written. */
export type After = 'close' | 'starttls';

export type Reply =
  | { kind: 'ok'; text: string; lines?: readonly string[]; body?: Buffer; then?: After }
  | { kind: 'err'; text: string; code?: RespCode; then?: After }
  /** RFC 5034 §4: a SASL server challenge, `+ <base64>`. */
  | { kind: 'challenge'; text: string };

export function ok(text: string, more: { lines?: readonly string[]; body?: Buffer; then?: After } = {}): Reply {
  return { kind: 'ok', text, ...more };
}

export function err(text: string, code?: RespCode, then?: After): Reply {
  return code === undefined ? { kind: 'err', text, ...(then ? { then } : {}) } : { kind: 'err', text, code, ...(then ? { then } : {}) };
}

const CRLF = Buffer.from('\r\n');
const DOT = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');

function statusLine(reply: Reply): string {
  const text = reply.text.replace(/[\r\n]/gu, ' ');
  switch (reply.kind) {
    case 'ok':
      return text === '' ? '+OK' : `+OK ${text}`;
    case 'err':
      return reply.code ? `-ERR [${reply.code}] ${text}` : `-ERR ${text}`;
    case 'challenge':
      return `+ ${text}`;
  }
}

/**
 * A message as a multi-line body (RFC 1939 §3): every line ends in CRLF (a bare LF in
 * the stored file becomes CRLF), a line starting with `.` gets one more, and the body
 * ends with `.` CRLF. As pieces to write in order: a stored message that needs no change
 * (CRLF throughout, no line starting with a dot: what the MDA writes) goes out as it is.
 */
export function dotStuffParts(message: Buffer): Buffer[] {
  if (needsNoStuffing(message)) {
    const ends = message.length === 0 || (message[message.length - 2] === 0x0d && message[message.length - 1] === 0x0a);
    return ends ? [message, TERMINATOR] : [message, CRLF, TERMINATOR];
  }
  const parts: Buffer[] = [];
  let start = 0;
  while (start < message.length) {
    const lf = message.indexOf(0x0a, start);
    const end = lf === -1 ? message.length : lf;
    const line = end > start && message[end - 1] === 0x0d ? message.subarray(start, end - 1) : message.subarray(start, end);
    if (line[0] === 0x2e) parts.push(DOT);
    parts.push(line, CRLF);
    start = end + 1;
  }
  parts.push(TERMINATOR);
  return parts;
}

/** CRLF line ends only (no bare CR or LF) and no line that starts with a dot. */
function needsNoStuffing(message: Buffer): boolean {
  if (message[0] === 0x2e || message.indexOf('\n.') !== -1) return false;
  for (let lf = message.indexOf(0x0a); lf !== -1; lf = message.indexOf(0x0a, lf + 1)) {
    if (lf === 0 || message[lf - 1] !== 0x0d) return false;
  }
  for (let cr = message.indexOf(0x0d); cr !== -1; cr = message.indexOf(0x0d, cr + 1)) {
    if (message[cr + 1] !== 0x0a) return false;
  }
  return true;
}

export function dotStuff(message: Buffer): Buffer {
  return Buffer.concat(dotStuffParts(message));
}

/** Our own listing lines (LIST, UIDL, CAPA) as a multi-line body: no line breaks inside, so only dots to stuff. */
function linesBody(lines: readonly string[]): string {
  return [...lines.map((line) => (line.charCodeAt(0) === 0x2e ? `.${line}` : line)), '.', ''].join('\r\n');
}

/** The serialized reply as pieces to write in order (a message body is not copied). */
export function serializeParts(reply: Reply): Buffer[] {
  const line = Buffer.from(statusLine(reply), 'utf8');
  const head = Buffer.concat([line.subarray(0, MAX_RESPONSE_LINE_OCTETS - 2), CRLF]);
  if (reply.kind !== 'ok') return [head];
  if (reply.body) return [head, ...dotStuffParts(reply.body)];
  if (reply.lines) return [head, Buffer.from(linesBody(reply.lines), 'utf8')];
  return [head];
}

/** The serialized reply, ready for the socket. */
export function serialize(reply: Reply): Buffer {
  return Buffer.concat(serializeParts(reply));
}

/**
 * RFC 1939 §7 TOP: the header, the blank line after it, and the first `bodyLines` lines
 * of the body. A message without a blank line is all header.
 */
export function topOf(message: Buffer, bodyLines: number): Buffer {
  let start = 0;
  let headerEnd = message.length;
  while (start < message.length) {
    const lf = message.indexOf(0x0a, start);
    const end = lf === -1 ? message.length : lf + 1;
    const line = message.subarray(start, end);
    if ((line.length === 1 && line[0] === 0x0a) || (line.length === 2 && line[0] === 0x0d && line[1] === 0x0a)) {
      headerEnd = end;
      break;
    }
    start = end;
  }
  let end = headerEnd;
  for (let n = 0; n < bodyLines && end < message.length; n += 1) {
    const lf = message.indexOf(0x0a, end);
    end = lf === -1 ? message.length : lf + 1;
  }
  return message.subarray(0, end);
}
