/**
 * Frames the client's byte stream into complete IMAP commands (RFC 3501 §2.2): a command
 * is lines joined by literals `{n}` (synchronizing: the server says `+` first) and
 * `{n+}` (RFC 7888 LITERAL+). Only complete commands leave this module, with their
 * literals inline, for parser.ts. Limits are enforced here, before any buffering.
 */

/** RFC 7162 §4 asks servers to accept command lines of at least 8192 octets. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Largest literal (an APPENDed message); answered with NO [TOOBIG] (RFC 4469 §5, RFC 7889). */
export const MAX_LITERAL_BYTES = 32 * 1024 * 1024;
/** Literals of one command together. */
export const MAX_COMMAND_BYTES = MAX_LITERAL_BYTES + 1024 * 1024;

export type ReaderProblem =
  | { kind: 'line-too-long'; tag: string | undefined }
  | { kind: 'literal-too-big'; tag: string | undefined; size: number; synchronizing: boolean };

export interface ReaderEvents {
  command(raw: Buffer): void;
  /** A synchronizing literal was announced and accepted: send a continuation. */
  continuation(): void;
  problem(problem: ReaderProblem): void;
  /** The largest literal accepted now (smaller before login, prelogin.ts); MAX_LITERAL_BYTES when absent. */
  maxLiteralBytes?(): number;
}

const LITERAL_AT_END = /\{(\d{1,10})(\+?)\}$/u;

function tagOf(line: Buffer): string | undefined {
  const match = /^([^\s(){%*"\\+]+) /u.exec(line.subarray(0, 64).toString('latin1'));
  return match?.[1];
}

export class CommandReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private literalLeft = 0;
  /** Discarding the rest of a line that was too long. */
  private skippingLine = false;
  private readonly events: ReaderEvents;

  constructor(events: ReaderEvents) {
    this.events = events;
  }

  /** Drops whatever was received but not yet framed (after STARTTLS, RFC 3501 §6.2.1). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.buffer = Buffer.alloc(0);
    this.literalLeft = 0;
    this.skippingLine = false;
  }

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length > 0) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, this.buffer.length);
        this.pending.push(this.buffer.subarray(0, take));
        this.pendingBytes += take;
        this.buffer = this.buffer.subarray(take);
        this.literalLeft -= take;
        continue;
      }
      const newline = this.buffer.indexOf(10);
      if (newline === -1) {
        if (this.buffer.length > MAX_LINE_BYTES) {
          if (!this.skippingLine) this.events.problem({ kind: 'line-too-long', tag: tagOf(this.buffer) });
          this.skippingLine = true;
          this.pending = [];
          this.pendingBytes = 0;
          this.buffer = Buffer.alloc(0);
        }
        return;
      }
      const end = newline > 0 && this.buffer[newline - 1] === 13 ? newline - 1 : newline;
      const line = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(newline + 1);
      if (this.skippingLine) {
        this.skippingLine = false;
        continue;
      }
      if (line.length > MAX_LINE_BYTES) {
        this.events.problem({ kind: 'line-too-long', tag: tagOf(this.pending[0] ?? line) });
        this.pending = [];
        this.pendingBytes = 0;
        continue;
      }
      this.onLine(line);
    }
  }

  private onLine(line: Buffer): void {
    const tail = line.subarray(Math.max(0, line.length - 16)).toString('latin1');
    const literal = LITERAL_AT_END.exec(tail);
    if (!literal) {
      this.pending.push(line);
      const command = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.events.command(command);
      return;
    }
    const size = Number(literal[1]);
    const synchronizing = literal[2] !== '+';
    const maxLiteral = this.events.maxLiteralBytes?.() ?? MAX_LITERAL_BYTES;
    if (size > maxLiteral || this.pendingBytes + size > MAX_COMMAND_BYTES) {
      const tag = tagOf(this.pending[0] ?? line);
      this.pending = [];
      this.pendingBytes = 0;
      // A refused non-synchronizing literal is on its way regardless: the session closes (RFC 7888 §4).
      this.events.problem({ kind: 'literal-too-big', tag, size, synchronizing });
      return;
    }
    this.pending.push(line, Buffer.from('\r\n'));
    this.pendingBytes += line.length + 2;
    this.literalLeft = size;
    if (synchronizing) this.events.continuation();
    if (size === 0) this.literalLeft = 0;
  }
}
