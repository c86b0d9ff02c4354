/**
 * Test helper: a LabDns from a table, the lab zones by default (loopback addresses).
 * A name listed in `failing` throws like an unreachable DNS server.
 */
import { DnsUnavailableError, type LabDns } from '../spam/lab-dns.ts';

export interface FakeZone {
  mx?: Record<string, string[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  txt?: Record<string, string[]>;
  failing?: string[];
}

export const LAB_ZONE: FakeZone = {
  mx: { 'alpha.test': ['mx.alpha.test'], 'beta.test': ['mx1.beta.test', 'mx2.beta.test'] },
  a: {
    'alpha.test': ['127.28.0.10'],
    'mx.alpha.test': ['127.28.0.10'],
    'beta.test': ['127.28.0.20'],
    'mx1.beta.test': ['127.28.0.20'],
    'mx2.beta.test': ['127.28.0.21'],
  },
  txt: { 'alpha.test': ['v=spf1 mx -all'], 'beta.test': ['v=spf1 mx -all'] },
};

export function fakeDns(zone: FakeZone = LAB_ZONE): LabDns & { queries: string[] } {
  const queries: string[] = [];
  const look = async (table: Record<string, string[]> | undefined, name: string, type: string): Promise<string[]> => {
    queries.push(`${name} ${type}`);
    if (zone.failing?.includes(name)) throw new DnsUnavailableError(`lab DNS failed for ${name} ${type}: ETIMEOUT`);
    return table?.[name.toLowerCase()] ?? [];
  };
  return {
    queries,
    mx: (domain) => look(zone.mx, domain, 'MX'),
    addresses: (domain, family) => look(family === 4 ? zone.a : zone.aaaa, domain, family === 4 ? 'A' : 'AAAA'),
    txt: (domain) => look(zone.txt, domain, 'TXT'),
  };
}
