/**
 * The POP3 wire parser (RFC 1939 §3): bytes in, complete lines out, and a command line
 * split into its keyword and arguments. No sockets here; the session feeds it.
 */
import { MAX_BUFFERED_LINE_OCTETS } from './limits.ts';

export type Line = { kind: 'line'; text: string; octets: number } | { kind: 'too-long' };

/**
 * Splits a byte stream into lines ending in LF (a preceding CR is dropped). A line that
 * grows past `maxOctets` without a LF is reported once as `too-long` and the rest of it,
 * up to the next LF, is thrown away.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  private readonly maxOctets: number;

  constructor(maxOctets: number = MAX_BUFFERED_LINE_OCTETS) {
    this.maxOctets = maxOctets;
  }

  push(chunk: Buffer): Line[] {
    const lines: Line[] = [];
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf === -1 ? chunk.length : lf;
      const piece = chunk.subarray(start, end);
      if (!this.discarding) {
        if (this.size + piece.length > this.maxOctets) {
          this.discarding = true;
          this.parts = [];
          this.size = 0;
          lines.push({ kind: 'too-long' });
        } else if (piece.length > 0) {
          this.parts.push(piece);
          this.size += piece.length;
        }
      }
      if (lf === -1) break;
      if (this.discarding) {
        this.discarding = false;
      } else {
        const raw = Buffer.concat(this.parts);
        const line = raw.at(-1) === 0x0d ? raw.subarray(0, -1) : raw;
        lines.push({ kind: 'line', text: line.toString('utf8'), octets: raw.length + 1 });
      }
      this.parts = [];
      this.size = 0;
      start = lf + 1;
    }
    return lines;
  }

  /** Drops anything buffered: after STLS no plain-text byte may be read as a command (RFC 2595 §4). */
  reset(): void {
    this.parts = [];
    this.size = 0;
    this.discarding = false;
  }

  get buffered(): number {
    return this.size;
  }
}

export interface Command {
  /** Upper-cased keyword (RFC 1939 §3: case-insensitive, 3 or 4 characters). */
  verb: string;
  args: string[];
}

/** RFC 1939 §3: a keyword, then arguments separated by single spaces (extra spaces tolerated). */
export function parseCommand(text: string): Command | undefined {
  const words = text.split(' ').filter((word) => word !== '');
  const keyword = words[0];
  if (keyword === undefined || !/^[A-Za-z]{3,4}$/u.test(keyword)) return undefined;
  return { verb: keyword.toUpperCase(), args: words.slice(1) };
}

/** RFC 1939 §3 message-number: a decimal number without sign or leading garbage. */
export function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,9}$/u.test(text)) return undefined;
  return Number(text);
}
