/**
 * The DNS the MTA routes by: the lab's DNS server (MTA_DNS_SERVER), never the host's
 * resolver, behind a small interface so tests can script every answer and failure and a
 * fault layer can wrap it. The client is dns-client.ts (dns-packet, every TTL reported);
 * the cache is dns-cache.ts (each answer kept for its own TTL, shown by `GET /dns`).
 */
export { createLabResolver } from './dns-client.ts';

export interface MxAnswer {
  exchange: string;
  priority: number;
  /** Seconds; a resolver that does not know it leaves it out and the cache uses DEFAULT_MX_TTL_S. */
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

/** Cache time of MX answers when the resolver gives no TTL (a scripted one, say). */
export const DEFAULT_MX_TTL_S = 60;
/** No answer is kept longer than this, whatever its TTL says. */
export const MAX_CACHE_TTL_S = 3600;
/**
 * Cache time of NXDOMAIN and NODATA answers when the server sent no SOA to take it from
 * (RFC 2308 §5); the lab zones' SOA minimum. Without negative caching every message to
 * beta.test asked the DNS server for mx1's and mx2's (absent) AAAA records again.
 */
export const NEGATIVE_TTL_S = 60;

export type LookupFailure = 'nxdomain' | 'nodata' | 'temporary';

/** NXDOMAIN and "no records of this type" are answers; everything else (SERVFAIL, timeout, refused) is temporary. */
export function classifyDnsError(error: unknown): LookupFailure {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOTFOUND') return 'nxdomain';
  if (code === 'ENODATA') return 'nodata';
  return 'temporary';
}
