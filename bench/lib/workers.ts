/**
 * The parent side of the load-generator protocol (bench/workers/protocol.ts): start
 * worker processes, wait until every one has prepared, send them all `go` at one
 * instant, and collect their results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const READY_TIMEOUT_MS = 120_000;
const workersDir = join(import.meta.dirname, '..', 'workers');

export type WorkerKind = 'smtp' | 'imap' | 'pop3';

interface Running<R> {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<R>;
}

function startOne<R>(kind: WorkerKind, job: object): Running<R> {
  const child = spawn(process.execPath, [join(workersDir, `${kind}.ts`), JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let markReady: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    fail = reject;
  });
  const result = new Promise<R>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let message: { ready?: boolean; result?: R; error?: string };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return;
      }
      if (message.ready) markReady();
      if (message.result !== undefined) resolve(message.result);
      if (message.error !== undefined) {
        const error = new Error(`${kind} worker failed: ${message.error}`);
        fail(error);
        reject(error);
      }
    });
    child.once('exit', (code) => {
      const error = new Error(`${kind} worker exited (${code}) without a result${stderr ? `:\n${stderr}` : ''}`);
      fail(error);
      reject(error);
    });
  });
  result.catch(() => undefined);
  ready.catch(() => undefined);
  return { child, ready, result };
}

export interface WorkerGroup<R> {
  /** Sends `go` to every worker: the wall-clock start, and the results to come. */
  go(): { startedAt: number; results: Promise<R[]> };
  kill(): void;
}

export async function startWorkers<R>(kind: WorkerKind, jobs: readonly object[]): Promise<WorkerGroup<R>> {
  const running = jobs.map((job) => startOne<R>(kind, job));
  const kill = () => running.forEach(({ child }) => child.exitCode === null && child.kill('SIGKILL'));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(running.map((item) => item.ready)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${kind} workers not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    kill();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    kill,
    go: () => {
      const startedAt = performance.timeOrigin + performance.now();
      for (const { child } of running) child.stdin?.write('go\n');
      const results = Promise.all(running.map((item) => item.result));
      results.catch(kill);
      return { startedAt, results };
    },
  };
}

/** Splits `total` into `parts` near-equal positive shares (fewer parts when total is small). */
export function split(total: number, parts: number): number[] {
  const count = Math.max(1, Math.min(parts, total));
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}
