/**
 * The MTA's DNS cache: wraps any MxResolver (the lab client of dns-client.ts, or a fault
 * layer around it) and keeps each answer for its records' own TTL, NXDOMAIN and NODATA
 * for the negative TTL the server gave with its SOA (RFC 2308 §5; NEGATIVE_TTL_S when it
 * gave none). Other failures (SERVFAIL, timeout, refused) are never cached. `entries()`
 * is what `GET /dns` on the admin endpoint shows: name, type, answers, seconds left.
 */
import {
  classifyDnsError,
  DEFAULT_MX_TTL_S,
  MAX_CACHE_TTL_S,
  NEGATIVE_TTL_S,
  type AddressAnswer,
  type MxAnswer,
  type MxResolver,
} from './resolver.ts';

export type CachedType = 'MX' | 'A' | 'AAAA';

interface CacheEntry {
  name: string;
  type: CachedType;
  storedAt: number;
  expiresAt: number;
  answer?: MxAnswer[] | AddressAnswer[];
  /** A cached NXDOMAIN or NODATA, thrown again on each hit. */
  negative?: NodeJS.ErrnoException;
}

/** One cache entry as the admin endpoint shows it. */
export interface DnsCacheEntryView {
  name: string;
  type: CachedType;
  /** `answer`, or the cached negative answer. */
  result: 'answer' | 'nxdomain' | 'nodata';
  /** MX: `{ preference, exchange }`; A/AAAA: `{ address }`. Empty for a negative answer. */
  answers: ({ preference: number; exchange: string } | { address: string })[];
  /** Seconds the answer is kept in all (its TTL, capped at MAX_CACHE_TTL_S). */
  ttl: number;
  /** Whole seconds until it expires (rounded up: 1 in its last second). */
  secondsLeft: number;
}

/** Answers (arrays) handed out from the cache rather than from the DNS server. */
const cachedAnswers = new WeakSet<object>();

/** True when `answer` (or the error thrown instead of it) came from a DnsCache. */
export function fromCache(answerOrError: unknown): boolean {
  return (
    typeof answerOrError === 'object' &&
    answerOrError !== null &&
    (cachedAnswers.has(answerOrError) || (answerOrError as { cached?: unknown }).cached === true)
  );
}

/** Names are kept as DNS compares them: lower case, without the root's dot. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/u, '');
}

/** An empty answer is NODATA by another name: cached as long as one. */
function minTtl(records: { ttl?: number }[], fallback: number): number {
  return records.length === 0 ? NEGATIVE_TTL_S : Math.min(...records.map((record) => record.ttl ?? fallback));
}

export class DnsCache implements MxResolver {
  readonly #inner: MxResolver;
  readonly #now: () => number;
  readonly #entries = new Map<string, CacheEntry>();

  constructor(inner: MxResolver, now: () => number = Date.now) {
    this.#inner = inner;
    this.#now = now;
  }

  resolveMx(nameInput: string): Promise<MxAnswer[]> {
    const name = normalize(nameInput);
    return this.#cached('MX', name, () => this.#inner.resolveMx(name), (answer) => minTtl(answer, DEFAULT_MX_TTL_S));
  }

  resolve4(nameInput: string, _options?: { ttl: true }): Promise<AddressAnswer[]> {
    const name = normalize(nameInput);
    return this.#cached('A', name, () => this.#inner.resolve4(name, { ttl: true }), (answer) => minTtl(answer, 0));
  }

  resolve6(nameInput: string, _options?: { ttl: true }): Promise<AddressAnswer[]> {
    const name = normalize(nameInput);
    return this.#cached('AAAA', name, () => this.#inner.resolve6(name, { ttl: true }), (answer) => minTtl(answer, 0));
  }

  /** The live entries, oldest first; expired ones are dropped on the way. */
  entries(): DnsCacheEntryView[] {
    const at = this.#now();
    const views: DnsCacheEntryView[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= at) {
        this.#entries.delete(key);
        continue;
      }
      const negative = entry.negative === undefined ? undefined : classifyDnsError(entry.negative);
      views.push({
        name: entry.name,
        type: entry.type,
        result: negative === 'nxdomain' ? 'nxdomain' : negative === 'nodata' ? 'nodata' : 'answer',
        answers: (entry.answer ?? []).map((record) =>
          'exchange' in record ? { preference: record.priority, exchange: record.exchange === '' ? '.' : record.exchange } : { address: record.address },
        ),
        ttl: Math.round((entry.expiresAt - entry.storedAt) / 1000),
        secondsLeft: Math.ceil((entry.expiresAt - at) / 1000),
      });
    }
    return views;
  }

  /** Forgets every answer (the next lookups ask the server). */
  clear(): void {
    this.#entries.clear();
  }

  async #cached<T extends MxAnswer[] | AddressAnswer[]>(type: CachedType, name: string, query: () => Promise<T>, ttlOf: (answer: T) => number): Promise<T> {
    const key = `${type} ${name}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.expiresAt > this.#now()) {
      if (hit.negative !== undefined) throw Object.assign(new Error(hit.negative.message), { code: hit.negative.code, cached: true });
      return hit.answer as T;
    }
    this.#entries.delete(key);
    let answer: T;
    try {
      answer = await query();
    } catch (error) {
      if (classifyDnsError(error) !== 'temporary') {
        const given = (error as { negativeTtl?: unknown }).negativeTtl;
        const ttl = Math.min(MAX_CACHE_TTL_S, typeof given === 'number' ? given : NEGATIVE_TTL_S);
        if (ttl > 0) this.#store(key, { name, type, storedAt: this.#now(), expiresAt: this.#now() + ttl * 1000, negative: error as NodeJS.ErrnoException });
      }
      throw error;
    }
    const ttl = Math.min(MAX_CACHE_TTL_S, ttlOf(answer));
    if (ttl > 0) {
      // The cache keeps its own copy: the caller may change the array it got.
      const copy = [...answer] as T;
      cachedAnswers.add(copy);
      this.#store(key, { name, type, storedAt: this.#now(), expiresAt: this.#now() + ttl * 1000, answer: copy });
    }
    return answer;
  }

  #store(key: string, entry: CacheEntry): void {
    // Re-inserted at the end, so entries() lists them by age.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }
}

/** Wraps a resolver in a DnsCache. */
export function cachingResolver(inner: MxResolver, now: () => number = Date.now): DnsCache {
  return new DnsCache(inner, now);
}
