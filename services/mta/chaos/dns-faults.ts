/**
 * DNS faults of the fault plan (`stage: "dns"`), as a resolver that wraps the MTA's DNS
 * cache: the planner asks it first, so a fault acts at once, whatever the cache holds,
 * and what it makes up is never cached. SERVFAIL, timeout and NXDOMAIN are thrown with
 * the codes the lab client uses (dns-client.ts), an empty answer is NODATA, a replaced
 * answer is returned with TTL 0. Each fault lasts as long as its rule.
 */
import type { Logger } from '../../../shared/log.ts';
import type { AddressAnswer, MxAnswer, MxResolver } from '../routing/resolver.ts';
import type { ChaosEngine } from '../../../shared/chaos/engine.ts';
import type { DnsFault, DnsType } from '../../../shared/chaos/rules.ts';

const ERROR_CODES: Record<Exclude<DnsFault, 'replace'>, string> = { servfail: 'ESERVFAIL', timeout: 'ETIMEOUT', nxdomain: 'ENOTFOUND', empty: 'ENODATA' };

export function chaosResolver(inner: MxResolver, chaos: ChaosEngine, logger?: Logger): MxResolver {
  /** The fault's answer, or undefined to ask `inner`; throws for an error fault. */
  function faulted(name: string, type: DnsType): unknown[] | undefined {
    const action = chaos.dns(name, type);
    if (action === undefined) return undefined;
    logger?.warn({ event: 'chaos.fired', rule: action.ruleId, stage: 'dns', name, type, fault: action.fault }, `chaos rule ${action.ruleId}: ${action.fault} for ${name} ${type}`);
    if (action.fault === 'replace') return action.answer ?? [];
    const code = ERROR_CODES[action.fault];
    throw Object.assign(new Error(`query ${type} ${name}: ${code} (chaos rule ${action.ruleId})`), { code, chaos: action.ruleId });
  }

  return {
    async resolveMx(name) {
      const answer = faulted(name, 'MX');
      if (answer === undefined) return inner.resolveMx(name);
      return (answer as { exchange: string; priority: number }[]).map((record): MxAnswer => ({ exchange: record.exchange, priority: record.priority, ttl: 0 }));
    },
    async resolve4(name, options) {
      const answer = faulted(name, 'A');
      if (answer === undefined) return inner.resolve4(name, options);
      return (answer as string[]).map((address): AddressAnswer => ({ address, ttl: 0 }));
    },
    async resolve6(name, options) {
      const answer = faulted(name, 'AAAA');
      if (answer === undefined) return inner.resolve6(name, options);
      return (answer as string[]).map((address): AddressAnswer => ({ address, ttl: 0 }));
    },
  };
}
