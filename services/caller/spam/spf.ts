/**
 * SPF (RFC 7208) check_host() for what the lab's records use and a little more:
 * mechanisms all, ip4, ip6, a, mx, include; the redirect modifier; qualifiers + - ~ ?.
 * exists and ptr are treated as non-matching (ptr is deprecated, §5.5).
 */
import { BlockList, isIP } from 'node:net';
import type { LabDns } from './lab-dns.ts';

export type SpfResult = 'none' | 'neutral' | 'pass' | 'fail' | 'softfail' | 'temperror' | 'permerror';

export interface SpfOutcome {
  result: SpfResult;
  domain: string;
  record?: string;
  /** The mechanism that decided, e.g. `-all`. */
  mechanism?: string;
  reason?: string;
}

/** RFC 7208 §4.6.4: at most 10 mechanisms or modifiers that cause DNS queries. */
export const MAX_SPF_DNS_TERMS = 10;

const QUALIFIERS: Record<string, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

/** `::ffff:1.2.3.4` → `1.2.3.4`. */
export function normalizeClientAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export async function checkSpf(dns: LabDns, clientAddress: string, domain: string): Promise<SpfOutcome> {
  const ip = normalizeClientAddress(clientAddress);
  const family = isIP(ip);
  if (family === 0) return { result: 'permerror', domain, reason: `bad client address ${clientAddress}` };
  const budget = { dnsTerms: 0 };
  try {
    return await checkHost(dns, ip, family === 4 ? 4 : 6, domain.toLowerCase(), budget);
  } catch (error) {
    if (error instanceof SpfPermError) return { result: 'permerror', domain, reason: error.message };
    return { result: 'temperror', domain, reason: (error as Error).message };
  }
}

class SpfPermError extends Error {}

async function checkHost(dns: LabDns, ip: string, family: 4 | 6, domain: string, budget: { dnsTerms: number }): Promise<SpfOutcome> {
  const records = (await dns.txt(domain)).filter((text) => /^v=spf1(\s|$)/i.test(text));
  if (records.length === 0) return { result: 'none', domain };
  if (records.length > 1) throw new SpfPermError(`${domain} has ${records.length} SPF records`);
  const record = records[0] ?? '';
  let redirect: string | undefined;
  for (const term of record.split(/\s+/).slice(1).filter((text) => text !== '')) {
    const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(term);
    if (modifier !== null) {
      if (modifier[1]?.toLowerCase() === 'redirect') redirect = modifier[2];
      continue;
    }
    const parsed = /^([+\-~?]?)([a-z0-9]+)(?::([^/]+))?(?:\/(\d+))?(?:\/\/(\d+))?$/i.exec(term);
    if (parsed === null) throw new SpfPermError(`bad SPF term ${term}`);
    const qualifier = QUALIFIERS[parsed[1] || '+'] ?? 'pass';
    const mechanism = (parsed[2] ?? '').toLowerCase();
    const target = parsed[3]?.toLowerCase() ?? domain;
    const prefix = family === 4 ? parsed[4] : (parsed[5] ?? (mechanism === 'ip6' ? parsed[4] : undefined));
    if (await matches(dns, ip, family, mechanism, target, prefix, parsed[3] !== undefined, budget)) {
      return { result: qualifier, domain, record, mechanism: term };
    }
  }
  if (redirect !== undefined) {
    spend(budget);
    const outcome = await checkHost(dns, ip, family, redirect.toLowerCase(), budget);
    return outcome.result === 'none' ? { result: 'permerror', domain, record, reason: `redirect to ${redirect} has no SPF record` } : outcome;
  }
  return { result: 'neutral', domain, record, reason: 'no mechanism matched' };
}

function spend(budget: { dnsTerms: number }): void {
  if (++budget.dnsTerms > MAX_SPF_DNS_TERMS) throw new SpfPermError(`more than ${MAX_SPF_DNS_TERMS} DNS lookups`);
}

async function matches(
  dns: LabDns,
  ip: string,
  family: 4 | 6,
  mechanism: string,
  target: string,
  prefix: string | undefined,
  explicitTarget: boolean,
  budget: { dnsTerms: number },
): Promise<boolean> {
  switch (mechanism) {
    case 'all':
      return true;
    case 'ip4':
    case 'ip6': {
      if (!explicitTarget) throw new SpfPermError(`${mechanism} needs an address`);
      const wanted = mechanism === 'ip4' ? 4 : 6;
      return wanted === family && inNetwork(ip, family, target, prefix);
    }
    case 'a':
      spend(budget);
      return (await dns.addresses(target, family)).some((address) => inNetwork(ip, family, address, prefix));
    case 'mx': {
      spend(budget);
      for (const exchange of (await dns.mx(target)).slice(0, MAX_SPF_DNS_TERMS)) {
        if ((await dns.addresses(exchange, family)).some((address) => inNetwork(ip, family, address, prefix))) return true;
      }
      return false;
    }
    case 'include': {
      if (!explicitTarget) throw new SpfPermError('include needs a domain');
      spend(budget);
      const inner = await checkHost(dns, ip, family, target, budget);
      if (inner.result === 'temperror') throw new Error(inner.reason ?? `temperror in include:${target}`);
      if (inner.result === 'permerror' || inner.result === 'none') throw new SpfPermError(`include:${target} gave ${inner.result}`);
      return inner.result === 'pass';
    }
    case 'exists':
    case 'ptr':
      spend(budget);
      return false;
    default:
      throw new SpfPermError(`unknown SPF mechanism ${mechanism}`);
  }
}

function inNetwork(ip: string, family: 4 | 6, network: string, prefix: string | undefined): boolean {
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (isIP(network) !== family) return false;
  const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
  if (bits > (family === 4 ? 32 : 128)) throw new SpfPermError(`bad CIDR length /${prefix}`);
  const list = new BlockList();
  list.addSubnet(network, bits, type);
  return list.check(ip, type);
}
