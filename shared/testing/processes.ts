/**
 * Runs a real client program in a test (python3 with smtplib/imaplib/poplib, curl,
 * swaks, dig) and collects what it printed. Never rejects: the exit code is part of the
 * result, so a test can assert on a refusal as well as on a success.
 */
import { execFile, type ChildProcess } from 'node:child_process';

export interface ProcessResult {
  /** 0 on success; the exit code, or 1 when the program was killed or could not start. */
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Written to the program's standard input, then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      [...args],
      { encoding: 'buffer', timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, ...(options.env ? { env: options.env } : {}) },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
    feedStdin(child, options.input);
  });
}

/**
 * Writes `input` (if any) to a child's standard input and closes it. A child that exits
 * before reading it (umount is done in a millisecond) makes the write fail with EPIPE on the
 * stdin stream; unheard, that error is an uncaught exception of the test process (it failed
 * faults/disk-full.test.ts's after hook). The child's exit code says how it went.
 */
export function feedStdin(child: ChildProcess, input?: string | Buffer): void {
  if (!child.stdin) return;
  child.stdin.on('error', () => undefined);
  if (input === undefined || input.length === 0) child.stdin.end();
  else child.stdin.end(input);
}

/** Runs a Python 3 script given on standard input with `args` as sys.argv[1:]. */
export function runPython(script: string, args: readonly string[] = [], timeoutMs?: number): Promise<ProcessResult> {
  return runProcess('python3', ['-', ...args], { input: script, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}
