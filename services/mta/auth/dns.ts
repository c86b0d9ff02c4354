/**
 * The DNS mailauth asks (SPF, DKIM keys, DMARC, ARC keys): the lab DNS server only, never
 * the host's resolver, with a small cache so a burst of mail from one domain asks once.
 * Node's resolver does not report TTLs for TXT/MX, so answers (and NXDOMAIN/NODATA,
 * RFC 2308) are kept AUTH_DNS_CACHE_S, the lab zones' own TTL. Timeouts and SERVFAIL are
 * never cached: mailauth turns them into `temperror`, and the next attempt asks again.
 * The lab DNS serves the lab's zones only and answers REFUSED for every other name; the
 * lab has no internet, so for these checks such a name does not exist (NXDOMAIN): mail
 * from `loadgen@bench.example` gets spf=none and dmarc=none, not temperror and a 451.
 */
import { Resolver } from 'node:dns/promises';
import type { HostPort } from '../../../shared/config.ts';

/** c-ares tries per query before ETIMEOUT (as the router's resolver). */
export const AUTH_DNS_TRIES = 2;
/** The `$TTL` of services/dns/zones/*.zone. */
export const AUTH_DNS_CACHE_S = 60;
/** Entries beyond this are dropped oldest first (a flood of random names cannot grow it). */
export const AUTH_DNS_CACHE_ENTRIES = 10_000;

/** mailauth's resolver: `dns.promises.resolve(name, rrtype)` semantics, node's error codes. */
export type AuthResolver = (name: string, rrtype: string) => Promise<unknown>;

const ANSWERS_NOT_TEMPORARY = new Set(['ENOTFOUND', 'ENODATA']);

interface Entry {
  expiresAt: number;
  answer?: unknown;
  error?: unknown;
}

export function cachingAuthResolver(resolve: AuthResolver, options: { now?: () => number; ttlS?: number } = {}): AuthResolver {
  const now = options.now ?? Date.now;
  const ttlMs = (options.ttlS ?? AUTH_DNS_CACHE_S) * 1000;
  const cache = new Map<string, Entry>();
  return async (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now()) {
      if (hit.error !== undefined) throw hit.error;
      return hit.answer;
    }
    cache.delete(key);
    try {
      const answer = await resolve(name, rrtype);
      remember(cache, key, { expiresAt: now() + ttlMs, answer });
      return answer;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code !== undefined && ANSWERS_NOT_TEMPORARY.has(code)) remember(cache, key, { expiresAt: now() + ttlMs, error });
      throw error;
    }
  };
}

function remember(cache: Map<string, Entry>, key: string, entry: Entry): void {
  if (cache.size >= AUTH_DNS_CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(key, entry);
}

/** A resolver that asks only `server` (the lab DNS), uncached. */
export function labAuthResolver(server: HostPort, timeoutMs: number): AuthResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: AUTH_DNS_TRIES });
  resolver.setServers([server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  return async (name, rrtype) => {
    try {
      return await resolver.resolve(name, rrtype);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EREFUSED') throw Object.assign(new Error(`${name}: not a lab name (REFUSED)`), { code: 'ENOTFOUND' });
      throw error;
    }
  };
}

/** The same, cached: what the checks ask. */
export function createAuthResolver(server: HostPort, timeoutMs: number): AuthResolver {
  return cachingAuthResolver(labAuthResolver(server, timeoutMs));
}
