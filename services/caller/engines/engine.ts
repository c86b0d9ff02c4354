/**
 * What every engine is: a named scan of one message that resolves to an outcome. Like a
 * Haraka hook, each runs under its own timeout; a timeout or a throw becomes an engine
 * result with status `timeout` / `error`, never an exception for the caller.
 */
import type { EngineResult, RuleHit, ScanRequest } from '../../../shared/caller-api.ts';
import type { ScanMessage } from '../message.ts';

export interface ScanInput {
  request: ScanRequest;
  message: ScanMessage;
}

export type EngineOutcome =
  | { status: 'clean'; detail?: string }
  | { status: 'infected'; viruses: string[]; detail?: string }
  | { status: 'scored'; score: number; rules: RuleHit[]; detail?: string };

export interface Engine {
  readonly name: string;
  readonly kind: 'virus' | 'spam';
  /** Must stop its I/O when `signal` aborts. */
  scan(input: ScanInput, signal: AbortSignal): Promise<EngineOutcome>;
}

/** An engine's failure with the protocol detail (a clamd ERROR line, a spamd EX_ code). */
export class EngineError extends Error {
  override readonly name = 'EngineError';
}

export class EngineTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export async function runEngine(engine: Engine, input: ScanInput, timeoutMs: number): Promise<EngineResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new EngineTimeoutError(`no answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const base = { engine: engine.name, kind: engine.kind, viruses: [] as string[], rules: [] as RuleHit[] };
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const outcome = await Promise.race([engine.scan(input, controller.signal), timedOut]);
    if (outcome.status === 'infected') return { ...base, status: 'infected', viruses: outcome.viruses, detail: outcome.detail, elapsedMs: elapsed() };
    if (outcome.status === 'scored') {
      return { ...base, status: 'scored', score: outcome.score, rules: outcome.rules, detail: outcome.detail, elapsedMs: elapsed() };
    }
    return { ...base, status: 'clean', detail: outcome.detail, elapsedMs: elapsed() };
  } catch (error) {
    const status = error instanceof EngineTimeoutError ? 'timeout' : 'error';
    controller.abort(error);
    return { ...base, status, detail: (error as Error).message, elapsedMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
