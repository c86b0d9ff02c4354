/**
 * Structured JSON logs (pino). Every line carries the service; child loggers add the
 * connection id (`conn`), queue id (`queueId`) and Message-ID (`messageId`). Protocol
 * traffic is logged at debug level with `dir: 'C:'` or `dir: 'S:'`.
 * Tests are silent unless MXLAB_TEST_LOG is set.
 */
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { TurnSink } from './log-sink.ts';

export type { Logger };

/**
 * stdout, written by the event loop once per turn (log-sink.ts): replies go out before
 * the lines that log them, and lines of one turn share a system call. One per process,
 * shared by every logger, so lines of two loggers never interleave.
 */
let stdout: TurnSink | undefined;

export function createLogger(service: string, level?: string): Logger {
  const chosen =
    level ??
    process.env.LOG_LEVEL ??
    (process.env.NODE_TEST_CONTEXT !== undefined && process.env.MXLAB_TEST_LOG === undefined ? 'silent' : 'info');
  stdout ??= new TurnSink(1);
  return pino(
    {
      level: chosen,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stdout,
  );
}

/** Short random id for a connection or session, as seen in logs. */
export function connectionId(): string {
  return randomBytes(6).toString('base64url');
}
