/**
 * Checks the DATA stream as it arrives, without sockets: every CR must be followed by LF
 * and every LF preceded by CR (RFC 5321 §2.3.8; a bare one is the SMTP smuggling
 * vector), and no line may pass MAX_DATA_LINE_BYTES. Keeps the message up to the size
 * limit and only counts what is over it.
 */
import { MAX_DATA_LINE_BYTES, MAX_MESSAGE_BYTES } from './limits.ts';

const CR = 0x0d;
const LF = 0x0a;

export type DataProblem = 'bare-line-ending' | 'line-too-long' | 'too-big';

export class DataScanner {
  private readonly chunks: Buffer[] = [];
  private readonly maxBytes: number;
  private readonly maxLineBytes: number;
  private pendingCr = false;
  private lineBytes = 0;
  bytes = 0;
  bareLineEnding = false;
  lineTooLong = false;

  constructor(options: { maxBytes?: number; maxLineBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? MAX_MESSAGE_BYTES;
    this.maxLineBytes = options.maxLineBytes ?? MAX_DATA_LINE_BYTES;
  }

  push(chunk: Buffer): void {
    if (this.bytes + chunk.length <= this.maxBytes) this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bareLineEnding) return;
    for (let index = 0; index < chunk.length; index += 1) {
      const byte = chunk[index];
      if (this.pendingCr) {
        this.pendingCr = false;
        if (byte !== LF) {
          this.bareLineEnding = true;
          return;
        }
        this.lineBytes = 0;
        continue;
      }
      if (byte === CR) {
        this.pendingCr = true;
        this.lineBytes += 1;
      } else if (byte === LF) {
        this.bareLineEnding = true;
        return;
      } else {
        this.lineBytes += 1;
        // The line's own CRLF counts towards the limit too.
        if (this.lineBytes + 2 > this.maxLineBytes) this.lineTooLong = true;
      }
    }
  }

  /** The first problem found, in order of gravity; call after the last chunk. */
  problem(): DataProblem | undefined {
    if (this.bareLineEnding || this.pendingCr) return 'bare-line-ending';
    if (this.bytes > this.maxBytes) return 'too-big';
    if (this.lineTooLong) return 'line-too-long';
    return undefined;
  }

  message(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
