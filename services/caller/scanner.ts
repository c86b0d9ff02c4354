/**
 * One scan: read the message, run every engine at once (each under its own timeout),
 * turn the results into a verdict, log it with the queue id and Message-ID.
 */
import { setImmediate } from 'node:timers/promises';
import type { ScanRequest, ScanVerdict } from '../../shared/caller-api.ts';
import type { Logger } from '../../shared/log.ts';
import { runEngine, type Engine } from './engines/engine.ts';
import { readMessage } from './message.ts';
import { buildVerdict, formatScore } from './verdict.ts';

export interface Scanner {
  readonly engines: readonly Engine[];
  scan(raw: Buffer, request: ScanRequest): Promise<ScanVerdict>;
}

export function createScanner(engines: readonly Engine[], engineTimeoutMs: number, logger: Logger): Scanner {
  return {
    engines,
    async scan(raw, request) {
      const started = performance.now();
      const message = readMessage(raw);
      // Parsing is linear and capped (message.ts); the engines start in a new turn so other scans get theirs.
      await setImmediate();
      const messageId = request.messageId ?? message.messageId;
      const input = { request, message };
      const results = await Promise.all(engines.map((engine) => runEngine(engine, input, engineTimeoutMs)));
      const verdict = buildVerdict(request.policy, results, Math.round(performance.now() - started));
      logger.info(
        {
          queueId: request.queueId,
          messageId,
          client: request.clientAddress,
          mailFrom: request.mailFrom,
          rcptTo: request.rcptTo,
          bytes: raw.length,
          action: verdict.action,
          score: formatScore(verdict.spam.score),
          viruses: verdict.virus.names,
          rules: verdict.engines.flatMap((result) => result.rules.map((rule) => `${rule.name}=${rule.score}`)),
          engines: verdict.engines.map((result) => `${result.engine}:${result.status}${result.detail === undefined ? '' : ` (${result.detail})`}`),
          elapsedMs: verdict.elapsedMs,
        },
        `verdict ${verdict.action}${verdict.smtp === undefined ? '' : ` ${verdict.smtp.code} ${verdict.smtp.enhanced} ${verdict.smtp.message}`}`,
      );
      return verdict;
    },
  };
}
