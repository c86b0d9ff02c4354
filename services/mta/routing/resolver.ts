/**
 * The DNS the MTA routes by: the lab's DNS server (MTA_DNS_SERVER), never the host's
 * resolver, behind a small interface so tests can script every answer and failure.
 * Answers are cached for their TTL; NXDOMAIN and NODATA for NEGATIVE_TTL_S (RFC 2308).
 */
import { Resolver } from 'node:dns/promises';
import type { HostPort } from '../../../shared/config.ts';

export interface MxAnswer {
  exchange: string;
  priority: number;
  /** Seconds; node's resolver does not report it for MX, so the cache uses DEFAULT_MX_TTL_S. */
  ttl?: number;
}

export interface AddressAnswer {
  address: string;
  /** Seconds. */
  ttl: number;
}

/** What the MX planner needs from DNS. Errors carry node's dns codes (ENOTFOUND, ENODATA, ESERVFAIL, ETIMEOUT…). */
export interface MxResolver {
  resolveMx(name: string): Promise<MxAnswer[]>;
  resolve4(name: string, options: { ttl: true }): Promise<AddressAnswer[]>;
  resolve6(name: string, options: { ttl: true }): Promise<AddressAnswer[]>;
}

/** Cache time of MX answers when the resolver gives no TTL (node's never does for MX). */
export const DEFAULT_MX_TTL_S = 60;
/** No answer is kept longer than this, whatever its TTL says. */
export const MAX_CACHE_TTL_S = 3600;
/**
 * Cache time of NXDOMAIN and NODATA answers (RFC 2308 §5). Node's resolver does not report
 * the SOA that carries it; this is the lab zones' SOA minimum. Without it every message to
 * beta.test asked the DNS server for mx1's and mx2's (absent) AAAA records again.
 */
export const NEGATIVE_TTL_S = 60;
/** c-ares tries per query before ETIMEOUT. */
export const DNS_TRIES = 2;

export type LookupFailure = 'nxdomain' | 'nodata' | 'temporary';

/** NXDOMAIN and "no records of this type" are answers; everything else (SERVFAIL, timeout, refused) is temporary. */
export function classifyDnsError(error: unknown): LookupFailure {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOTFOUND') return 'nxdomain';
  if (code === 'ENODATA') return 'nodata';
  return 'temporary';
}

/** A resolver that asks only `server` (the lab DNS). */
export function createLabResolver(server: HostPort | string, timeoutMs: number): MxResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: DNS_TRIES });
  const text = typeof server === 'string' ? server : server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
  resolver.setServers([text]);
  return {
    resolveMx: (name) => resolver.resolveMx(name),
    resolve4: (name) => resolver.resolve4(name, { ttl: true }),
    resolve6: (name) => resolver.resolve6(name, { ttl: true }),
  };
}

interface CacheEntry<T> {
  expiresAt: number;
  answer?: T;
  /** A cached NXDOMAIN or NODATA, thrown again on each hit. */
  negative?: NodeJS.ErrnoException;
}

/** Answers (arrays) handed out from the cache rather than from the DNS server. */
const cachedAnswers = new WeakSet<object>();

/** True when `answer` (or the error thrown instead of it) came from cachingResolver's cache. */
export function fromCache(answerOrError: unknown): boolean {
  return typeof answerOrError === 'object' && answerOrError !== null && (cachedAnswers.has(answerOrError) || (answerOrError as { cached?: unknown }).cached === true);
}

/**
 * Wraps a resolver so each answer is reused until its TTL runs out, NXDOMAIN and NODATA
 * for NEGATIVE_TTL_S. Other failures (SERVFAIL, timeout, refused) are not cached.
 */
export function cachingResolver(inner: MxResolver, now: () => number = Date.now): MxResolver {
  const cache = new Map<string, CacheEntry<unknown>>();

  async function cached<T extends object>(key: string, query: () => Promise<T>, ttlOf: (answer: T) => number): Promise<T> {
    const hit = cache.get(key);
    if (hit !== undefined && hit.expiresAt > now()) {
      if (hit.negative !== undefined) throw Object.assign(new Error(hit.negative.message), { code: hit.negative.code, cached: true });
      return hit.answer as T;
    }
    cache.delete(key);
    let answer: T;
    try {
      answer = await query();
    } catch (error) {
      if (classifyDnsError(error) !== 'temporary') cache.set(key, { expiresAt: now() + NEGATIVE_TTL_S * 1000, negative: error as NodeJS.ErrnoException });
      throw error;
    }
    const ttl = Math.min(MAX_CACHE_TTL_S, ttlOf(answer));
    if (ttl > 0) {
      // The cache keeps its own copy: the caller may change the array it got.
      const copy = Array.isArray(answer) ? ([...(answer as unknown[])] as T) : answer;
      cachedAnswers.add(copy);
      cache.set(key, { expiresAt: now() + ttl * 1000, answer: copy });
    }
    return answer;
  }

  /** An empty answer is NODATA by another name: cached as long as one. */
  const minTtl = (records: { ttl?: number }[], fallback: number) =>
    records.length === 0 ? NEGATIVE_TTL_S : Math.min(...records.map((record) => record.ttl ?? fallback));

  return {
    resolveMx: (name) => cached(`MX ${name}`, () => inner.resolveMx(name), (answer) => minTtl(answer, DEFAULT_MX_TTL_S)),
    resolve4: (name) => cached(`A ${name}`, () => inner.resolve4(name, { ttl: true }), (answer) => minTtl(answer, 0)),
    resolve6: (name) => cached(`AAAA ${name}`, () => inner.resolve6(name, { ttl: true }), (answer) => minTtl(answer, 0)),
  };
}
