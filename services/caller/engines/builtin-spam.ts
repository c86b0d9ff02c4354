/**
 * The built-in spam engine: the rule table of spam/rules.ts over one message, with the
 * lab DNS for the sender-domain and SPF rules.
 */
import type { ChaosEngine } from '../../../shared/chaos/engine.ts';
import type { HostPort } from '../../../shared/config.ts';
import type { Logger } from '../../../shared/log.ts';
import { faultyLabDns } from '../spam/dns-faults.ts';
import { createLabDns, withAnswerCache, type AnswerCacheEntry, type LabDns } from '../spam/lab-dns.ts';
import { evaluateRules, SPAM_RULES, type SpamRule, type SpamRulesConfig } from '../spam/rules.ts';
import type { Engine, EngineOutcome, ScanInput } from './engine.ts';

/** DNS answers must come well within the engine's own timeout. */
export const MAX_DNS_TIMEOUT_MS = 2000;

export interface BuiltinSpamOptions extends SpamRulesConfig {
  dnsServer: HostPort;
  engineTimeoutMs: number;
  /** Tests give a fake; otherwise one resolver per scan on `dnsServer`. */
  dns?: (signal: AbortSignal) => LabDns;
  rules?: readonly SpamRule[];
  /** The caller's fault plan: its DNS rules act before the lab DNS (and its cache) is asked. */
  chaos?: ChaosEngine;
  logger?: Logger;
}

/** The built-in spam engine, with the lab DNS answers its rules share (the caller's `GET /dns`). */
export interface BuiltinSpamEngine extends Engine {
  dnsAnswers(): AnswerCacheEntry[];
}

export function isBuiltinSpam(engine: Engine): engine is BuiltinSpamEngine {
  return typeof (engine as Partial<BuiltinSpamEngine>).dnsAnswers === 'function';
}

export function createBuiltinSpamEngine(options: BuiltinSpamOptions): BuiltinSpamEngine {
  const dnsTimeout = Math.max(1, Math.min(MAX_DNS_TIMEOUT_MS, Math.floor(options.engineTimeoutMs / 3)));
  // Unused (and empty) when a test gives its own DNS; making it asks nothing.
  const cache = withAnswerCache((signal: AbortSignal) => createLabDns(options.dnsServer, dnsTimeout, signal));
  const labDns = options.dns ?? cache;
  const makeDns = options.chaos === undefined ? labDns : faultyLabDns(labDns, options.chaos, options.logger);
  return {
    dnsAnswers: () => cache.entries(),
    name: 'builtin-spam',
    kind: 'spam',
    async scan(input: ScanInput, signal: AbortSignal): Promise<EngineOutcome> {
      const { hits, notes, spf } = await evaluateRules(options.rules ?? SPAM_RULES, { input, config: options, dns: makeDns(signal) });
      const score = roundScore(hits.reduce((sum, hit) => sum + hit.score, 0));
      const why = spf?.mechanism ?? spf?.reason;
      const spfNote = spf === undefined ? [] : [`spf=${spf.result} (${spf.domain}${why === undefined ? '' : `: ${why}`})`];
      return { status: 'scored', score, rules: hits, detail: [...spfNote, ...notes].join('; ') || undefined };
    },
  };
}

/** Scores are shown with one decimal, like SpamAssassin; sums keep three to stay exact enough. */
export function roundScore(score: number): number {
  return Math.round(score * 1000) / 1000;
}
