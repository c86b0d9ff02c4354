/**
 * `startCaller(config, deps)`: the caller's engines and its HTTP API on every listen
 * address. Tests start it in-process on port 0 and may replace the engines or the DNS.
 */
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ChaosEngine } from '../../shared/chaos/engine.ts';
import { planFor, readPlanFile } from '../../shared/chaos/plan-file.ts';
import { isLabPlan } from '../../shared/chaos/rules.ts';
import { listenHttp } from '../../shared/http-listen.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import type { CallerConfig } from './config.ts';
import { createBuiltinSpamEngine, isBuiltinSpam } from './engines/builtin-spam.ts';
import { createClamdEngine } from './engines/clamd.ts';
import { createEicarEngine } from './engines/eicar.ts';
import type { Engine } from './engines/engine.ts';
import { createSpamdEngine } from './engines/spamd.ts';
import { createCallerApp, ScanSlots } from './http.ts';
import { CallerMetrics } from './metrics.ts';
import { createScanner } from './scanner.ts';
import type { LabDns } from './spam/lab-dns.ts';

/** RFC 9110 §9.3 has no limit; the MTA waits 15 s, so a scan socket idle for 60 s is dead. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** Sampling of the event-loop delay shown in /metrics. */
const LOOP_DELAY_RESOLUTION_MS = 10;

export interface CallerDeps {
  logger?: Logger;
  /** Replaces the configured engines entirely. */
  engines?: Engine[];
  /** Replaces the lab DNS of the built-in spam rules (the fault plan's DNS rules still act in front of it). */
  dns?: (signal: AbortSignal) => LabDns;
  /** The fault plan (DNS rules only); a new empty one by default. */
  chaos?: ChaosEngine;
}

/** The caller's name in a lab plan (`{"mtas": {"caller": {...}}}`) and on its fault plan endpoints. */
export const CALLER_PLAN_NAME = 'caller';

export interface RunningCaller {
  close(): Promise<void>;
  http: AddressInfo[];
  engines: readonly Engine[];
  metrics: CallerMetrics;
  chaos: ChaosEngine;
}

/** A fault plan whose rules answer the caller's DNS questions only. */
export function callerChaos(logger?: Logger): ChaosEngine {
  return new ChaosEngine({ stages: ['dns'], holder: 'the caller', ...(logger === undefined ? {} : { logger }) });
}

export function configuredEngines(config: CallerConfig, deps: CallerDeps = {}, chaos?: ChaosEngine, logger?: Logger): Engine[] {
  const engines: Engine[] = [
    createEicarEngine(),
    createBuiltinSpamEngine({
      dnsServer: config.dnsServer,
      engineTimeoutMs: config.engineTimeoutMs,
      blockedSenders: config.blockedSenders,
      blockedUrls: config.blockedUrls,
      manyRecipients: config.manyRecipients,
      ...(deps.dns === undefined ? {} : { dns: deps.dns }),
      ...(chaos === undefined ? {} : { chaos }),
      ...(logger === undefined ? {} : { logger }),
    }),
  ];
  if (config.clamd !== null) engines.push(createClamdEngine(config.clamd));
  if (config.spamd !== null) engines.push(createSpamdEngine(config.spamd));
  return engines;
}

/**
 * CALLER_CHAOS_PLAN: the `caller` entry of a lab plan, all of it DNS rules; or a plan of
 * `{"rules": [...]}`, which the lab hands to every MTA and the caller alike
 * (MXLAB_CHAOS_PLAN), of which the caller takes the DNS rules and leaves the others to the
 * MTAs. A bad plan stops the start, naming the field.
 */
async function loadStartPlan(chaos: ChaosEngine, path: string, logger: Logger): Promise<void> {
  const input = await readPlanFile(path);
  const plan = planFor(input, CALLER_PLAN_NAME, path);
  let own = plan;
  if (!isLabPlan(input) && Array.isArray(plan.rules)) {
    const dns = plan.rules.filter((rule) => (rule as { stage?: unknown } | null)?.stage === 'dns');
    if (dns.length < plan.rules.length) logger.info({ event: 'chaos.plan-shared', path, dnsRules: dns.length, skipped: plan.rules.length - dns.length }, `chaos plan ${path}: the caller takes its ${dns.length} DNS rule(s); the others are the MTAs'`);
    own = { ...plan, rules: dns };
  }
  const loaded = chaos.replace(own);
  if (!loaded.ok) throw new Error(`CALLER_CHAOS_PLAN ${path}: ${loaded.error}`);
}

export async function startCaller(config: CallerConfig, deps: CallerDeps = {}): Promise<RunningCaller> {
  const logger = deps.logger ?? createLogger('caller', config.logLevel);
  const chaos = deps.chaos ?? callerChaos(logger.child({ component: 'chaos' }));
  if (config.chaosPlan !== undefined) await loadStartPlan(chaos, config.chaosPlan, logger);
  const engines = deps.engines ?? configuredEngines(config, deps, chaos, logger);
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  const metrics = new CallerMetrics(loopDelay);
  const scanner = createScanner(engines, config.engineTimeoutMs, logger);
  const app = createCallerApp({
    scanner,
    metrics,
    maxMessageBytes: config.maxMessageBytes,
    access: { clients: config.clients, token: config.token },
    slots: new ScanSlots(config.maxScans, config.maxWaitingScans),
    chaos,
    dnsAnswers: () => engines.find(isBuiltinSpam)?.dnsAnswers() ?? [],
    admin: { names: [CALLER_PLAN_NAME], token: config.adminToken },
    logger,
  });
  const listeners = await listenHttp('caller', app, config.listen, { requestTimeout: REQUEST_TIMEOUT_MS });
  const addresses = listeners.addresses;
  logger.info({ http: addresses.map((address) => `${address.address}:${address.port}`), engines: engines.map((engine) => engine.name) }, 'caller ready');
  const close = async (): Promise<void> => {
    loopDelay.disable();
    await listeners.close();
  };
  return { close, http: addresses, engines, metrics, chaos };
}

