/**
 * Counters for `/metrics`, in the Prometheus text exposition format (version 0.0.4):
 * verdicts by action, engine results by engine and status, scan time, and the longest
 * event-loop delay (one message must never hold the caller: issue 19).
 */
import type { Histogram } from 'node:perf_hooks';
import type { ScanVerdict, VerdictAction } from '../../shared/caller-api.ts';

const ACTIONS: readonly VerdictAction[] = ['accept', 'tag', 'quarantine', 'reject', 'tempfail'];

export class CallerMetrics {
  readonly #verdicts = new Map<VerdictAction, number>(ACTIONS.map((action) => [action, 0]));
  readonly #engines = new Map<string, number>();
  readonly #requestErrors = new Map<number, number>();
  #scanSeconds = 0;
  #viruses = 0;
  readonly #loopDelay: Histogram | undefined;

  /** `loopDelay`: an enabled perf_hooks.monitorEventLoopDelay histogram. */
  constructor(loopDelay?: Histogram) {
    this.#loopDelay = loopDelay;
  }

  recordVerdict(verdict: ScanVerdict): void {
    this.#verdicts.set(verdict.action, (this.#verdicts.get(verdict.action) ?? 0) + 1);
    for (const result of verdict.engines) {
      const key = `engine="${result.engine}",status="${result.status}"`;
      this.#engines.set(key, (this.#engines.get(key) ?? 0) + 1);
    }
    if (verdict.virus.infected) this.#viruses++;
    this.#scanSeconds += verdict.elapsedMs / 1000;
  }

  recordRequestError(status: number): void {
    this.#requestErrors.set(status, (this.#requestErrors.get(status) ?? 0) + 1);
  }

  verdictCount(action: VerdictAction): number {
    return this.#verdicts.get(action) ?? 0;
  }

  render(): string {
    const lines = [
      '# HELP mxlab_caller_verdicts_total Scan verdicts by action.',
      '# TYPE mxlab_caller_verdicts_total counter',
      ...[...this.#verdicts].map(([action, count]) => `mxlab_caller_verdicts_total{action="${action}"} ${count}`),
      '# HELP mxlab_caller_engine_results_total Engine results by engine and status.',
      '# TYPE mxlab_caller_engine_results_total counter',
      ...[...this.#engines].map(([labels, count]) => `mxlab_caller_engine_results_total{${labels}} ${count}`),
      '# HELP mxlab_caller_viruses_total Messages found infected.',
      '# TYPE mxlab_caller_viruses_total counter',
      `mxlab_caller_viruses_total ${this.#viruses}`,
      '# HELP mxlab_caller_request_errors_total Scan requests refused, by HTTP status.',
      '# TYPE mxlab_caller_request_errors_total counter',
      ...[...this.#requestErrors].map(([status, count]) => `mxlab_caller_request_errors_total{status="${status}"} ${count}`),
      '# HELP mxlab_caller_scan_seconds_total Time spent scanning.',
      '# TYPE mxlab_caller_scan_seconds_total counter',
      `mxlab_caller_scan_seconds_total ${this.#scanSeconds.toFixed(3)}`,
    ];
    if (this.#loopDelay !== undefined) {
      lines.push(
        '# HELP mxlab_caller_event_loop_delay_max_seconds Longest event-loop delay since start.',
        '# TYPE mxlab_caller_event_loop_delay_max_seconds gauge',
        `mxlab_caller_event_loop_delay_max_seconds ${(this.#loopDelay.max / 1e9).toFixed(3)}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}
