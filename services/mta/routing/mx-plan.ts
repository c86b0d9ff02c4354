/**
 * The MX planner (RFC 5321 §5.1, RFC 7505): from a domain to the ordered list of hosts
 * and addresses to try, or a routing failure with its SMTP reply. A function of the
 * resolver's answers only; each lookup asked of the DNS server is an info log line, an
 * answer from the resolver's cache a debug one (the same for every message of a domain).
 *
 * Rules, in order:
 * - MX records sorted by preference, random order among equal preferences (§5.1);
 * - no MX record (NODATA) → the domain itself is the only exchange (implicit MX, §5.1);
 * - a null MX (`0 .`, RFC 7505 §3) → permanent `556 5.1.10`;
 * - if this MTA is one of the exchanges, only exchanges with a strictly lower preference
 *   value are kept (§5.1 loop prevention); none left → configuration error `5.4.6`;
 * - each exchange's A and AAAA addresses, in that order, each family in random order (as
 *   Postfix's smtp_randomize_addresses: the DNS cache keeps one order for a whole TTL, so
 *   without it every message would go to the same address of a cluster); every address of
 *   an exchange comes before the next exchange;
 * - NXDOMAIN → permanent; SERVFAIL, timeout, refused → temporary.
 */
import type { Logger } from '../../../shared/log.ts';
import { fromCache } from './dns-cache.ts';
import { classifyDnsError, type AddressAnswer, type MxAnswer, type MxResolver } from './resolver.ts';

export interface PlannedExchange {
  exchange: string;
  preference: number;
  /** IPv4 addresses first, then IPv6. */
  addresses: string[];
  /** true for the implicit MX (the domain's own address records). */
  implicit: boolean;
}

export interface RouteFailure {
  ok: false;
  permanent: boolean;
  code: number;
  enhanced: string;
  text: string;
}

export type RoutePlan = { ok: true; domain: string; exchanges: PlannedExchange[] } | RouteFailure;

export interface PlanOptions {
  /** This MTA's names (MTA_HOSTNAME): an MX list naming one of them is cut below its preference. */
  ownHostnames: readonly string[];
  /** [0, 1); shuffles exchanges of equal preference. */
  random?: () => number;
  /** Child logger carrying queueId and messageId. */
  logger?: Logger;
}

/** Formats a failure as an SMTP reply line, e.g. `556 5.1.10 …`. */
export function routeFailureReply(failure: RouteFailure): string {
  return `${failure.code} ${failure.enhanced} ${failure.text}`;
}

function failure(permanent: boolean, code: number, enhanced: string, text: string): RouteFailure {
  return { ok: false, permanent, code, enhanced, text };
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/u, '');
}

/** Fisher–Yates: a new array in random order. */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** Fisher–Yates within each run of equal preference, after a stable sort by preference. */
export function orderByPreference(records: MxAnswer[], random: () => number): MxAnswer[] {
  const sorted = [...records].sort((a, b) => a.priority - b.priority);
  let start = 0;
  while (start < sorted.length) {
    let end = start;
    while (end < sorted.length && sorted[end]?.priority === sorted[start]?.priority) end += 1;
    for (let i = end - 1; i > start; i -= 1) {
      const j = start + Math.floor(random() * (i - start + 1));
      [sorted[i], sorted[j]] = [sorted[j] as MxAnswer, sorted[i] as MxAnswer];
    }
    start = end;
  }
  return sorted;
}

type Lookup<T> = { ok: true; answer: T } | { ok: false; kind: 'nxdomain' | 'nodata' | 'temporary'; code: string };

async function lookup<T>(type: string, name: string, query: () => Promise<T>, logger?: Logger): Promise<Lookup<T>> {
  try {
    const answer = await query();
    if (fromCache(answer)) logger?.debug({ event: 'dns.lookup', type, name, result: 'ok', cached: true, answer }, `DNS ${type} ${name} (cached)`);
    else logger?.info({ event: 'dns.lookup', type, name, result: 'ok', answer }, `DNS ${type} ${name}`);
    return { ok: true, answer };
  } catch (error) {
    const kind = classifyDnsError(error);
    const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    if (fromCache(error)) logger?.debug({ event: 'dns.lookup', type, name, result: kind, code, cached: true }, `DNS ${type} ${name}: ${kind} (cached)`);
    else logger?.info({ event: 'dns.lookup', type, name, result: kind, code }, `DNS ${type} ${name}: ${kind}`);
    return { ok: false, kind, code };
  }
}

async function addressesOf(
  name: string,
  resolver: MxResolver,
  random: () => number,
  logger?: Logger,
): Promise<{ addresses: string[]; temporary: boolean }> {
  const v4 = await lookup<AddressAnswer[]>('A', name, () => resolver.resolve4(name, { ttl: true }), logger);
  const v6 = await lookup<AddressAnswer[]>('AAAA', name, () => resolver.resolve6(name, { ttl: true }), logger);
  const family = (found: Lookup<AddressAnswer[]>) => shuffled(found.ok ? found.answer : [], random);
  const addresses = [...family(v4), ...family(v6)].map((record) => record.address);
  const temporary = (!v4.ok && v4.kind === 'temporary') || (!v6.ok && v6.kind === 'temporary');
  return { addresses: [...new Set(addresses)], temporary };
}

export async function planRoute(domainInput: string, resolver: MxResolver, options: PlanOptions): Promise<RoutePlan> {
  const domain = normalizeName(domainInput);
  const { logger } = options;
  const random = options.random ?? Math.random;
  const own = new Set(options.ownHostnames.map(normalizeName));

  const mx = await lookup('MX', domain, () => resolver.resolveMx(domain), logger);
  let candidates: { exchange: string; preference: number; implicit: boolean }[];
  if (mx.ok && mx.answer.length > 0) {
    const records = mx.answer.map((record) => ({ ...record, exchange: normalizeName(record.exchange) }));
    if (records.length === 1 && records[0]?.exchange === '') {
      return failure(true, 556, '5.1.10', `Recipient address rejected: ${domain} has a null MX (RFC 7505)`);
    }
    candidates = orderByPreference(
      records.filter((record) => record.exchange !== ''),
      random,
    ).map((record) => ({ exchange: record.exchange, preference: record.priority, implicit: false }));
    const ownPreferences = candidates.filter((c) => own.has(c.exchange)).map((c) => c.preference);
    if (ownPreferences.length > 0) {
      const ownPreference = Math.min(...ownPreferences);
      candidates = candidates.filter((c) => c.preference < ownPreference);
      logger?.info(
        { event: 'mx.own', domain, ownPreference, kept: candidates.map((c) => c.exchange) },
        `this MTA is MX ${ownPreference} of ${domain}: only exchanges preferred over it are tried`,
      );
      if (candidates.length === 0) {
        return failure(true, 554, '5.4.6', `mail for ${domain} loops back to myself (no MX preferred over this host)`);
      }
    }
  } else if (mx.ok || mx.kind === 'nodata') {
    logger?.info({ event: 'mx.implicit', domain }, `${domain} has no MX: implicit MX on its own address records`);
    candidates = [{ exchange: domain, preference: 0, implicit: true }];
  } else if (mx.kind === 'nxdomain') {
    return failure(true, 550, '5.1.2', `Host or domain name not found: ${domain} (NXDOMAIN)`);
  } else {
    return failure(false, 451, '4.4.3', `DNS lookup of ${domain} MX failed (${mx.code}), will retry`);
  }

  const exchanges: PlannedExchange[] = [];
  let temporary = false;
  for (const candidate of candidates) {
    const found = await addressesOf(candidate.exchange, resolver, random, logger);
    temporary ||= found.temporary;
    if (found.addresses.length > 0) exchanges.push({ ...candidate, addresses: found.addresses });
  }
  if (exchanges.length === 0) {
    if (temporary) return failure(false, 451, '4.4.3', `address lookup for the exchanges of ${domain} failed, will retry`);
    return failure(true, 550, '5.4.4', `Unable to route: no exchange of ${domain} has an address`);
  }
  logger?.info(
    { event: 'mx.plan', domain, exchanges: exchanges.map((e) => ({ exchange: e.exchange, preference: e.preference, addresses: e.addresses })) },
    `route for ${domain}: ${exchanges.map((e) => `${e.exchange}(${e.preference})`).join(', ')}`,
  );
  return { ok: true, domain, exchanges };
}
