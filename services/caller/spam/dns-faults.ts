/**
 * DNS faults of the caller's fault plan (issue 16: `stage: "dns"` rules, as on the MTAs),
 * in front of the spam rules' lab DNS and its answer cache: a fault acts at once and what
 * it makes up is never cached. SERVFAIL and timeout are a DnsUnavailableError (the rule is
 * then "not evaluated", as when the lab DNS is down); NXDOMAIN and an empty answer are no
 * records; a replaced MX or address answer is what the rules see. Each lasts as long as its rule.
 */
import type { ChaosEngine } from '../../../shared/chaos/engine.ts';
import type { DnsType } from '../../../shared/chaos/rules.ts';
import type { Logger } from '../../../shared/log.ts';
import { DnsUnavailableError, type LabDns } from './lab-dns.ts';

const ERROR_CODES = { servfail: 'ESERVFAIL', timeout: 'ETIMEOUT' } as const;

export function faultyLabDns(make: (signal: AbortSignal) => LabDns, chaos: ChaosEngine, logger?: Logger): (signal: AbortSignal) => LabDns {
  /** The plan's answer for one question, or undefined to ask the lab DNS; throws for SERVFAIL and timeout. */
  function faulted(name: string, type: DnsType): unknown[] | undefined {
    const action = chaos.dns(name, type);
    if (action === undefined) return undefined;
    logger?.warn({ event: 'chaos.fired', rule: action.ruleId, stage: 'dns', name, type, fault: action.fault }, `chaos rule ${action.ruleId}: ${action.fault} for ${name} ${type}`);
    if (action.fault === 'servfail' || action.fault === 'timeout') {
      throw new DnsUnavailableError(`lab DNS failed for ${name} ${type}: ${ERROR_CODES[action.fault]} (chaos rule ${action.ruleId})`);
    }
    return action.fault === 'replace' ? (action.answer ?? []) : [];
  }
  return (signal) => {
    const inner = make(signal);
    return {
      async mx(domain) {
        const answer = faulted(domain, 'MX');
        return answer === undefined ? inner.mx(domain) : (answer as { exchange: string }[]).map((record) => record.exchange.toLowerCase());
      },
      async addresses(domain, family) {
        const answer = faulted(domain, family === 4 ? 'A' : 'AAAA');
        return answer === undefined ? inner.addresses(domain, family) : (answer as string[]);
      },
      async txt(domain) {
        const answer = faulted(domain, 'TXT');
        return answer === undefined ? inner.txt(domain) : (answer as string[]);
      },
    };
  };
}
