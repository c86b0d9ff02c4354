/**
 * The worker side of the load-generator protocol. A worker gets its job as JSON in
 * argv[2], prepares (connects its sessions), prints `{"ready":true}`, waits for `go` on
 * stdin, runs, prints `{"result":…}` and exits. One JSON object per stdout line.
 */
import { createInterface } from 'node:readline';

export function readJob<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('a worker needs its job as JSON in argv[2]');
  return JSON.parse(raw) as T;
}

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Says ready and resolves on `go`, with the wall-clock time it arrived. */
export async function readyThenGo(): Promise<number> {
  send({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'go') {
      lines.close();
      return now();
    }
  }
  throw new Error('stdin closed before go');
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function finish(result: object): void {
  process.stdout.write(`${JSON.stringify({ result })}\n`, () => process.exit(0));
}

/** Runs a worker's main function; any error is reported as `{"error":…}` and exit 1. */
export function runWorker(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stdout.write(`${JSON.stringify({ error: message })}\n`, () => process.exit(1));
  });
}
