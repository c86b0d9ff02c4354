/**
 * Where an agent's log lines go: a file descriptor (stdout), written by the event loop's
 * own thread once per turn. Lines logged while a turn runs are kept in order and go out
 * together in one write(2) when the turn ends (setImmediate), so a connection's replies
 * leave before its log line, no line waits on another thread, and a burst of lines is
 * still one system call. sonic-boom's asynchronous mode, used before, handed every line
 * of a quiet agent to libuv's thread pool: a thread woken, the write, the loop woken back,
 * on the path of a new connection's greeting (bench/FINDINGS.md). A descriptor that is
 * full and non-blocking (EAGAIN) keeps what is left and tries again shortly; what is
 * pending is written synchronously when the process exits, and a `kill -9` loses at
 * most the lines of the turn it interrupted.
 */
import { writeSync } from 'node:fs';

/** The part of fs.writeSync this needs: bytes written, or a thrown error with a code. */
export type WriteFd = (fd: number, data: Buffer) => number;

/** How long a full, non-blocking descriptor is left before the next try. */
const RETRY_MS = 10;
/** Lines kept while the descriptor takes nothing (a reader that stopped); older ones are dropped first. */
const MAX_PENDING_BYTES = 16 * 2 ** 20;

export interface TurnSinkOptions {
  write?: WriteFd;
  /** Register a flush on process exit (off in tests). */
  flushOnExit?: boolean;
}

export class TurnSink {
  private readonly fd: number;
  private readonly writeFd: WriteFd;
  private pending: string[] = [];
  private pendingBytes = 0;
  /** Bytes of the first pending chunk a short write already took. */
  private unwritten: Buffer | undefined;
  private scheduled = false;
  private dropped = 0;

  constructor(fd: number, options: TurnSinkOptions = {}) {
    this.fd = fd;
    this.writeFd = options.write ?? ((target, data) => writeSync(target, data));
    if (options.flushOnExit ?? true) process.once('exit', () => this.flushSync());
  }

  /** pino's destination interface: one serialized line, newline included. */
  write(line: string): boolean {
    this.pending.push(line);
    this.pendingBytes += line.length;
    while (this.pendingBytes > MAX_PENDING_BYTES && this.pending.length > 1) {
      this.pendingBytes -= (this.pending.shift() as string).length;
      this.dropped += 1;
    }
    this.schedule(0);
    return true;
  }

  /** pino's `logger.flush(cb)`. */
  flush(callback?: (error?: Error) => void): void {
    this.flushSync();
    callback?.();
  }

  /** Writes what is pending now; false when the descriptor would block (the rest stays pending). */
  flushSync(): boolean {
    if (this.dropped > 0) {
      this.pending.unshift(`{"level":"warn","msg":"log lines dropped: stdout took nothing","dropped":${this.dropped}}\n`);
      this.dropped = 0;
    }
    const fresh = this.pending.length > 0 ? Buffer.from(this.pending.join('')) : undefined;
    let chunk = this.unwritten === undefined ? fresh : fresh === undefined ? this.unwritten : Buffer.concat([this.unwritten, fresh]);
    this.pending = [];
    this.pendingBytes = 0;
    this.unwritten = undefined;
    while (chunk !== undefined && chunk.length > 0) {
      let written: number;
      try {
        written = this.writeFd(this.fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.unwritten = chunk;
          return false;
        }
        // EPIPE, EBADF: nobody reads these lines any more; the agent goes on without them.
        return true;
      }
      chunk = written >= chunk.length ? undefined : chunk.subarray(written);
    }
    return true;
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      if (!this.flushSync()) this.schedule(RETRY_MS);
    };
    if (delayMs === 0) setImmediate(run).unref();
    else setTimeout(run, delayMs).unref();
  }
}
