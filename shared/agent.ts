/**
 * The life of an agent process, the same for every agent's `main.ts`: start once, stop
 * cleanly on SIGINT or SIGTERM, and turn a start failure into one plain line.
 *
 * Exit codes: 0 after a clean stop; 2 when the operator must fix something (a bad
 * variable, a listen address taken or not allowed); 1 for anything else.
 */
import { ConfigError } from './config.ts';

export interface RunningAgent {
  close(): Promise<void>;
}

const OPERATOR_ERROR_CODES = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

function isOperatorError(error: unknown): boolean {
  if (error instanceof ConfigError) return true;
  const { name, code, cause } = error as { name?: string; code?: string; cause?: { code?: string } };
  if (name === 'ListenError') return true;
  return [code, cause?.code].some((item) => item !== undefined && OPERATOR_ERROR_CODES.has(item));
}

/**
 * Set to `1` by scripts/compile-cache.ts: every module of the agent is loaded by then (the
 * entry's static imports), so Node's compile cache holds them; exit before doing anything.
 */
export const COMPILE_ONLY_VARIABLE = 'MXLAB_COMPILE_ONLY';

/**
 * Set to `1` by the no-Docker launcher, which gives each agent a pipe as stdin: when the
 * pipe closes (the launcher is gone, even by `kill -9`), the agent stops as on SIGTERM
 * instead of living on as an orphan that holds the lab's ports.
 */
export const EXIT_WITH_PARENT_VARIABLE = 'MXLAB_EXIT_WITH_PARENT';

export async function runAgent(name: string, start: () => Promise<RunningAgent>): Promise<void> {
  if (process.env[COMPILE_ONLY_VARIABLE] === '1') process.exit(0);
  let agent: RunningAgent;
  try {
    agent = await start();
  } catch (error) {
    if (isOperatorError(error)) {
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${name}: failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (reason: NodeJS.Signals | 'launcher gone'): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${name}: ${reason}, stopping\n`);
    agent.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${name}: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.env[EXIT_WITH_PARENT_VARIABLE] === '1') {
    process.stdin.on('data', () => undefined);
    process.stdin.once('close', () => stop('launcher gone'));
  }
}
