/**
 * The lookups the spam rules make, asked of the lab DNS only (never the host's
 * resolver). "No such name", "no data" and "refused" (a name outside the lab zones) all
 * mean "no records"; a DNS server that does not answer is a DnsUnavailableError.
 */
import { Resolver } from 'node:dns/promises';
import type { HostPort } from '../../../shared/config.ts';

export interface LabDns {
  mx(domain: string): Promise<string[]>;
  addresses(domain: string, family: 4 | 6): Promise<string[]>;
  txt(domain: string): Promise<string[]>;
}

export class DnsUnavailableError extends Error {
  override readonly name = 'DnsUnavailableError';
}

/** c-ares codes that are answers, not failures. */
const EMPTY_ANSWER_CODES = new Set(['ENOTFOUND', 'ENODATA', 'EREFUSED', 'ENONAME', 'EBADNAME']);

/** One resolver per scan: `signal` cancels its outstanding queries. */
export function createLabDns(server: HostPort, timeoutMs: number, signal?: AbortSignal): LabDns {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  resolver.setServers([`${host}:${server.port}`]);
  signal?.addEventListener('abort', () => resolver.cancel(), { once: true });
  const ask = async <T>(query: () => Promise<T[]>, what: string): Promise<T[]> => {
    try {
      return await query();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (EMPTY_ANSWER_CODES.has(code)) return [];
      throw new DnsUnavailableError(`lab DNS ${server.host}:${server.port} failed for ${what}: ${code || (error as Error).message}`);
    }
  };
  return {
    mx: async (domain) => (await ask(() => resolver.resolveMx(domain), `${domain} MX`)).map((record) => record.exchange.toLowerCase()),
    addresses: (domain, family) => ask(() => (family === 4 ? resolver.resolve4(domain) : resolver.resolve6(domain)), `${domain} ${family === 4 ? 'A' : 'AAAA'}`),
    txt: async (domain) => (await ask(() => resolver.resolveTxt(domain), `${domain} TXT`)).map((chunks) => chunks.join('')),
  };
}

/** Answers are kept this long: below the lab zones' 60 s TTL, so zone edits show within it. */
export const ANSWER_CACHE_MS = 30_000;
const ANSWER_CACHE_MAX = 10_000;

/**
 * Shares answers between scans (like a caching resolver next to SpamAssassin): a burst
 * of mail from one domain asks the lab DNS once, and a scan answered from the cache makes
 * no resolver at all. Failures are never cached.
 */
/** One cached answer as the caller's `GET /dns` shows it (MX: exchanges; A/AAAA: addresses; TXT: strings). */
export interface AnswerCacheEntry {
  name: string;
  type: 'MX' | 'A' | 'AAAA' | 'TXT';
  answers: string[];
  /** Whole seconds until it is asked again (rounded up). */
  secondsLeft: number;
}

/** A LabDns factory whose answers are shared between scans, and can be listed. */
export type CachedLabDns = ((signal: AbortSignal) => LabDns) & { entries(): AnswerCacheEntry[] };

export function withAnswerCache(make: (signal: AbortSignal) => LabDns, now: () => number = Date.now): CachedLabDns {
  const answers = new Map<string, { until: number; value: string[]; name: string; type: AnswerCacheEntry['type'] }>();
  const cached = (type: AnswerCacheEntry['type'], name: string, query: () => Promise<string[]>): Promise<string[]> => {
    const key = `${type} ${name}`;
    const hit = answers.get(key);
    if (hit && hit.until > now()) return Promise.resolve(hit.value);
    return query().then((value) => {
      if (answers.size >= ANSWER_CACHE_MAX) answers.clear();
      answers.set(key, { until: now() + ANSWER_CACHE_MS, value, name, type });
      return value;
    });
  };
  const factory = (signal: AbortSignal): LabDns => {
    // Made on the first miss only: a c-ares channel per scan costs more than the scan's rules.
    let made: LabDns | undefined;
    const dns = (): LabDns => (made ??= make(signal));
    return {
      mx: (domain) => cached('MX', domain, () => dns().mx(domain)),
      addresses: (domain, family) => cached(family === 4 ? 'A' : 'AAAA', domain, () => dns().addresses(domain, family)),
      txt: (domain) => cached('TXT', domain, () => dns().txt(domain)),
    };
  };
  const entries = (): AnswerCacheEntry[] => {
    const at = now();
    const live: AnswerCacheEntry[] = [];
    for (const [key, entry] of answers) {
      if (entry.until <= at) answers.delete(key);
      else live.push({ name: entry.name, type: entry.type, answers: entry.value, secondsLeft: Math.ceil((entry.until - at) / 1000) });
    }
    return live;
  };
  return Object.assign(factory, { entries });
}
