/**
 * Structured JSON logs (pino). Every line carries the service; child loggers add the
 * connection id (`conn`), queue id (`queueId`) and Message-ID (`messageId`). Protocol
 * traffic is logged at debug level with `dir: 'C:'` or `dir: 'S:'`.
 * Tests are silent unless MXLAB_TEST_LOG is set.
 */
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * stdout, written asynchronously: a line is handed to the kernel as soon as the previous
 * write is done, and lines logged meanwhile go out together in one write (a synchronous
 * write per line cost the MTA a system call per line: 10 lines per message). pino flushes
 * it when the process exits; a `kill -9` can lose the last lines, never mail. One per
 * process, shared by every logger, so lines of two loggers never interleave.
 */
let stdout: ReturnType<typeof pino.destination> | undefined;

export function createLogger(service: string, level?: string): Logger {
  const chosen =
    level ??
    process.env.LOG_LEVEL ??
    (process.env.NODE_TEST_CONTEXT !== undefined && process.env.MXLAB_TEST_LOG === undefined ? 'silent' : 'info');
  stdout ??= pino.destination({ dest: 1, sync: false });
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
