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
export function withAnswerCache(make: (signal: AbortSignal) => LabDns, now: () => number = Date.now): (signal: AbortSignal) => LabDns {
  const answers = new Map<string, { until: number; value: string[] }>();
  const cached = (key: string, query: () => Promise<string[]>): Promise<string[]> => {
    const hit = answers.get(key);
    if (hit && hit.until > now()) return Promise.resolve(hit.value);
    return query().then((value) => {
      if (answers.size >= ANSWER_CACHE_MAX) answers.clear();
      answers.set(key, { until: now() + ANSWER_CACHE_MS, value });
      return value;
    });
  };
  return (signal) => {
    // Made on the first miss only: a c-ares channel per scan costs more than the scan's rules.
    let made: LabDns | undefined;
    const dns = (): LabDns => (made ??= make(signal));
    return {
      mx: (domain) => cached(`mx:${domain}`, () => dns().mx(domain)),
      addresses: (domain, family) => cached(`a${family}:${domain}`, () => dns().addresses(domain, family)),
      txt: (domain) => cached(`txt:${domain}`, () => dns().txt(domain)),
    };
  };
}
