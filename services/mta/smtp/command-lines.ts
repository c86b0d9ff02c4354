/**
 * smtp-server's command parser, with one change: a command line over maxCommandLength
 * does not end the session (smtp-server answers 421 and closes, and drops the commands
 * pipelined behind it). The line is skipped up to its LF and replaced by TOO_LONG_LINE,
 * which the connection answers `500 5.5.2 Error: command line too long` in its turn
 * (RFC 5321 §4.2.2: 500 "may include errors such as command line too long"; Postfix
 * likewise reads past an over-long line and goes on).
 */
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

/** What an over-long command line is replaced by; no client can send it (a NUL byte). */
export const TOO_LONG_LINE = '\u0000too-long';
const TOO_LONG_BYTES = Buffer.from(`${TOO_LONG_LINE}\r\n`, 'latin1');
const LF = 0x0a;
const CR = 0x0d;
/** The client should wait for 354 after DATA (RFC 2920 §3.1); what it sent behind it is content or commands. */
const DATA_COMMAND = /^DATA[ \t]*\r?\n$/iu;

type Next = (error?: Error | null) => void;

export class LimitedLines extends SMTPStream {
  /** Bytes of the current, not yet terminated command line (the parser holds them). */
  private lineBytes = 0;
  /** Inside an over-long line: drop bytes up to its LF. */
  private skipping = false;
  /** Armed by a `mid-data` chaos rule: called after half of the first chunk of message data. */
  private cut: (() => void) | undefined;

  /**
   * The next chunk of message data is cut in half: the first half is parsed, the rest
   * discarded, and `onCut` closes the connection. Half a chunk never holds the final
   * `<CRLF>.<CRLF>`, which ends it, so the message is never complete.
   */
  cutData(onCut: () => void): void {
    this.cut = onCut;
  }

  override _write(chunk: Buffer, encoding: BufferEncoding | 'buffer', next: Next): void {
    if (this._dataMode && this.cut !== undefined && chunk.length > 0) {
      const onCut = this.cut;
      this.cut = undefined;
      super._write(chunk.subarray(0, Math.floor(chunk.length / 2)), encoding, (error) => {
        onCut();
        next(error);
      });
      return;
    }
    if (this._dataMode || this.isClosed || chunk.length === 0) {
      this.lineBytes = 0;
      super._write(chunk, encoding, next);
      return;
    }
    const limit = this._maxCommandLength;
    const out: Buffer[] = [];
    let index = 0;
    while (index < chunk.length) {
      const lf = chunk.indexOf(LF, index);
      const end = lf === -1 ? chunk.length : lf + 1;
      if (this.skipping) {
        if (lf !== -1) {
          this.skipping = false;
          out.push(TOO_LONG_BYTES);
        }
        index = end;
        continue;
      }
      const segment = chunk.subarray(index, end);
      let length = this.lineBytes + segment.length;
      // As the parser counts: without the CRLF of a complete line, with everything of a partial one.
      if (lf !== -1) length -= lf > index && chunk[lf - 1] === CR ? 2 : 1;
      if (length > limit) {
        // The head of this line, if any, is the parser's remainder from the previous chunks.
        this._remainder = '';
        this.lineBytes = 0;
        if (lf === -1) this.skipping = true;
        else out.push(TOO_LONG_BYTES);
        index = end;
        continue;
      }
      out.push(segment);
      index = end;
      if (lf === -1) {
        this.lineBytes += segment.length;
        continue;
      }
      const wasWholeLine = this.lineBytes === 0;
      this.lineBytes = 0;
      if (wasWholeLine && DATA_COMMAND.test(segment.toString('latin1')) && end < chunk.length) {
        // What follows DATA is message content if DATA was accepted, commands if it was
        // refused: the parser answers DATA first, then the rest comes back here.
        const rest = chunk.subarray(end);
        super._write(Buffer.concat(out), encoding, (error) => {
          if (error) next(error);
          else this._write(rest, encoding, next);
        });
        return;
      }
    }
    if (out.length === 0) {
      next();
      return;
    }
    super._write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out), encoding, next);
  }
}
