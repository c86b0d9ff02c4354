/**
 * Finds a domain's IMAP and submission servers the way RFC 6186 says a mail client
 * should: `_imap._tcp.<domain>` and `_submission._tcp.<domain>` SRV records, ordered by
 * priority and weight (RFC 2782), each target resolved to an address in the lab DNS.
 * When the lab DNS has no answer, the configured fallback (MUA_FALLBACK) is used.
 * Only the lab resolver is asked, never the host's.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { HostPort } from '../../shared/config.ts';
import type { FallbackServers } from './config.ts';

export interface SrvAnswer {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** The part of node's `dns.promises.Resolver` that discovery uses (a fake in tests). */
export interface LabResolver {
  resolveSrv(name: string): Promise<SrvAnswer[]>;
  resolve4(name: string): Promise<string[]>;
}

export type ServiceKind = 'imap' | 'submission';

export interface Endpoint {
  /** Address to connect to. */
  host: string;
  port: number;
  /** Name the server's certificate must carry (the SRV target, or the fallback host). */
  servername: string;
  source: 'srv' | 'fallback';
}

export interface MailServers {
  imap: Endpoint;
  submission: Endpoint;
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

/** How long an answer is reused (the lab zones' TTL). */
const CACHE_TTL_MS = 60_000;
/** RFC 1035 §4.2.1 style bound on a lookup, so a silent DNS server cannot hang a login. */
const LOOKUP_TIMEOUT_MS = 3_000;

export function labResolver(server: HostPort): LabResolver {
  const resolver = new Resolver({ timeout: LOOKUP_TIMEOUT_MS, tries: 2 });
  const address = server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
  resolver.setServers([address]);
  return resolver;
}

/** RFC 2782 ordering: lowest priority first; within one priority, weighted random. */
export function orderSrv(records: readonly SrvAnswer[], random: () => number = Math.random): SrvAnswer[] {
  const byPriority = new Map<number, SrvAnswer[]>();
  for (const record of records) byPriority.set(record.priority, [...(byPriority.get(record.priority) ?? []), record]);
  const ordered: SrvAnswer[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const pool = [...(byPriority.get(priority) ?? [])].sort((a, b) => a.weight - b.weight);
    while (pool.length > 0) {
      const total = pool.reduce((sum, record) => sum + record.weight, 0);
      let pick = 0;
      if (total > 0) {
        let threshold = random() * total;
        pick = pool.findIndex((record) => (threshold -= record.weight) < 0);
        if (pick === -1) pick = pool.length - 1;
      }
      ordered.push(...pool.splice(pick, 1));
    }
  }
  return ordered;
}

function stripDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

async function addressOf(resolver: LabResolver, name: string): Promise<string> {
  if (isIP(name) !== 0) return name;
  const addresses = await resolver.resolve4(name);
  const first = addresses[0];
  if (first === undefined) throw new DiscoveryError(`${name} has no address in the lab DNS`);
  return first;
}

async function fromSrv(resolver: LabResolver, kind: ServiceKind, domain: string): Promise<Endpoint | undefined> {
  let records: SrvAnswer[];
  try {
    records = await resolver.resolveSrv(`_${kind}._tcp.${domain}`);
  } catch {
    return undefined;
  }
  // RFC 6186 §3: a target of "." means the service is decidedly not available.
  const usable = orderSrv(records.filter((record) => stripDot(record.name) !== ''));
  for (const record of usable) {
    const servername = stripDot(record.name).toLowerCase();
    try {
      return { host: await addressOf(resolver, servername), port: record.port, servername, source: 'srv' };
    } catch {
      continue;
    }
  }
  return undefined;
}

async function fromFallback(
  resolver: LabResolver,
  kind: ServiceKind,
  fallback: FallbackServers | undefined,
): Promise<Endpoint | undefined> {
  const entry = fallback?.[kind];
  if (!entry) return undefined;
  return { host: await addressOf(resolver, entry.host), port: entry.port, servername: entry.host, source: 'fallback' };
}

export class Discovery {
  private readonly cache = new Map<string, { until: number; servers: MailServers }>();
  private readonly resolver: LabResolver;
  private readonly fallback: Map<string, FallbackServers>;
  private readonly now: () => number;

  constructor(resolver: LabResolver, fallback: Map<string, FallbackServers>, now: () => number = Date.now) {
    this.resolver = resolver;
    this.fallback = fallback;
    this.now = now;
  }

  /** The servers of `domain`; throws DiscoveryError when neither DNS nor the fallback knows them. */
  async servers(domain: string): Promise<MailServers> {
    const key = domain.toLowerCase();
    const cached = this.cache.get(key);
    if (cached && cached.until > this.now()) return cached.servers;
    const find = async (kind: ServiceKind): Promise<Endpoint> => {
      const found =
        (await fromSrv(this.resolver, kind, key)) ?? (await fromFallback(this.resolver, kind, this.fallback.get(key)));
      if (!found) throw new DiscoveryError(`no ${kind} server found for ${key} (no _${kind}._tcp SRV record, no fallback)`);
      return found;
    };
    const servers = { imap: await find('imap'), submission: await find('submission') };
    this.cache.set(key, { until: this.now() + CACHE_TTL_MS, servers });
    return servers;
  }
}
