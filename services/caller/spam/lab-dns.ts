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
