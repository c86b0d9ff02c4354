/**
 * A resolver answering from a small table, for tests: a name absent from every table is
 * NXDOMAIN, a name present elsewhere but not in the asked table is NODATA, and an error
 * code string as the value makes the query fail with that code (ESERVFAIL, ETIMEOUT…).
 */
import type { AddressAnswer, MxAnswer, MxResolver } from '../routing/resolver.ts';

export interface ScriptedZone {
  mx?: Record<string, MxAnswer[] | string>;
  a?: Record<string, string[] | string>;
  aaaa?: Record<string, string[] | string>;
  /** TTL of address answers, seconds (default 300). */
  ttl?: number;
}

export interface ScriptedResolver extends MxResolver {
  /** Every query asked, as `TYPE name`. */
  readonly queries: string[];
}

function dnsError(code: string, name: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`query ${name}: ${code}`);
  error.code = code;
  return error;
}

export function scriptedResolver(zone: ScriptedZone): ScriptedResolver {
  const queries: string[] = [];
  const tables = [zone.mx ?? {}, zone.a ?? {}, zone.aaaa ?? {}];
  const exists = (name: string) => tables.some((table) => Object.hasOwn(table, name));

  function answer<T>(type: string, table: Record<string, T | string>, name: string): Promise<T> {
    queries.push(`${type} ${name}`);
    const value = table[name];
    if (typeof value === 'string') return Promise.reject(dnsError(value, name));
    if (value !== undefined) return Promise.resolve(value);
    return Promise.reject(dnsError(exists(name) ? 'ENODATA' : 'ENOTFOUND', name));
  }

  const ttl = zone.ttl ?? 300;
  const addresses = (list: string[]): AddressAnswer[] => list.map((address) => ({ address, ttl }));
  return {
    queries,
    resolveMx: (name) => answer('MX', zone.mx ?? {}, name),
    resolve4: (name) => answer('A', zone.a ?? {}, name).then(addresses),
    resolve6: (name) => answer('AAAA', zone.aaaa ?? {}, name).then(addresses),
  };
}
