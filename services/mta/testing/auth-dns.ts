/**
 * Test helper (imported by tests only): a mailauth resolver that answers from the lab zone
 * files as written (compose addresses), with names that can be made to fail (SERVFAIL or
 * timeout) or be overridden, so the checks run without sockets.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseZone, type ZoneRecord } from '../../dns/zone.ts';
import type { AuthResolver } from '../auth/dns.ts';

const ZONES_DIR = fileURLToPath(new URL('../../dns/zones/', import.meta.url));

function dnsError(code: string, name: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`query ${code} ${name}`), { code });
}

export interface ZoneResolver {
  resolve: AuthResolver;
  /** Every query from now on for `name` (any type) fails with `code` (ETIMEOUT, ESERVFAIL). */
  fail(name: string, code: string): void;
  /** Replaces the TXT answer of `name`. */
  setTxt(name: string, texts: string[]): void;
  queries: string[];
}

export function zoneResolver(domains: readonly string[] = ['alpha.test', 'beta.test']): ZoneResolver {
  const records: ZoneRecord[] = domains.flatMap((domain) => parseZone(readFileSync(`${ZONES_DIR}${domain}.zone`, 'utf8'), { origin: `${domain}.`, file: domain }).records);
  const failures = new Map<string, string>();
  const txt = new Map<string, string[][]>();
  const queries: string[] = [];
  const resolve: AuthResolver = async (rawName, rrtype) => {
    const name = rawName.toLowerCase().replace(/\.$/u, '');
    queries.push(`${rrtype} ${name}`);
    const failure = failures.get(name);
    if (failure) throw dnsError(failure, name);
    if (rrtype === 'TXT' && txt.has(name)) return txt.get(name);
    const owned = records.filter((record) => record.name === name);
    const answers = owned.filter((record) => record.type === rrtype);
    if (answers.length === 0) {
      if (owned.length === 0 && !records.some((record) => record.name.endsWith(`.${name}`))) throw dnsError('ENOTFOUND', name);
      throw dnsError('ENODATA', name);
    }
    return answers.map((record) => {
      if (record.type === 'TXT') return record.data;
      if (record.type === 'MX') return { exchange: record.data.exchange, priority: record.data.preference };
      return record.data;
    });
  };
  return {
    resolve,
    fail: (name, code) => failures.set(name.toLowerCase(), code),
    setTxt: (name, texts) => txt.set(name.toLowerCase(), [texts]),
    queries,
  };
}
