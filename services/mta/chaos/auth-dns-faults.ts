/**
 * The fault plan's DNS rules (`stage: "dns"`) in front of the resolver the MX checks ask
 * (SPF, DKIM keys, DMARC, ARC: services/mta/auth/dns.ts), as dns-faults.ts does for
 * routing: a fault acts at once, is never cached, and fails the way the lab DNS would
 * (ESERVFAIL, ETIMEOUT, ENOTFOUND, ENODATA), so mailauth turns it into temperror or none.
 * A replaced MX or A/AAAA answer is given in node's `resolve(name, rrtype)` shape; TXT
 * answers are never replaced (rules.ts). Other record types pass untouched.
 */
import type { ChaosEngine } from '../../../shared/chaos/engine.ts';
import { DNS_TYPES, type DnsType } from '../../../shared/chaos/rules.ts';
import type { Logger } from '../../../shared/log.ts';
import type { AuthResolver } from '../auth/dns.ts';

const ERROR_CODES = { servfail: 'ESERVFAIL', timeout: 'ETIMEOUT', nxdomain: 'ENOTFOUND', empty: 'ENODATA' } as const;

export function chaosAuthResolver(inner: AuthResolver, chaos: ChaosEngine, logger?: Logger): AuthResolver {
  return async (name, rrtype) => {
    const type = rrtype.toUpperCase();
    if (!(DNS_TYPES as readonly string[]).includes(type)) return inner(name, rrtype);
    const action = chaos.dns(name, type as DnsType);
    if (action === undefined) return inner(name, rrtype);
    logger?.warn({ event: 'chaos.fired', rule: action.ruleId, stage: 'dns', name, type, fault: action.fault, for: 'auth' }, `chaos rule ${action.ruleId}: ${action.fault} for ${name} ${type}`);
    if (action.fault === 'replace') return action.answer ?? [];
    const code = ERROR_CODES[action.fault];
    throw Object.assign(new Error(`query ${type} ${name}: ${code} (chaos rule ${action.ruleId})`), { code, chaos: action.ruleId });
  };
}
