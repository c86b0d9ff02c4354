/**
 * Maildir file names (cr.yp.to/proto/maildir.html, Courier's Maildir++, Dovecot's
 * conventions): `<unique>[:2,<info>]`. The unique part is made once by whoever writes
 * the message, `<secs>.M<usecs>P<pid>Q<counter>R<random>.<host>[,S=<size>][,W=<size>]`,
 * and never changes (POP3 UIDL, the IMAP index key); the info letters are the flags
 * and are changed by renaming within `cur/`. The only place that makes or reads these names.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';

/** Maildir spec: experimental info is `:1,`, flag info is `:2,`. */
export const INFO_SEPARATOR = ':2,';

/** The flags of the Maildir spec, in the ASCII order it asks for. */
export const MAILDIR_FLAGS = ['D', 'F', 'P', 'R', 'S', 'T'] as const;

let deliveries = 0;

/**
 * The spec: "replace / with \057 and : with \072" so that the host name cannot add a
 * path separator or an info separator to the unique name.
 */
export function escapeHostname(name: string): string {
  return name.replace(/\//gu, '\\057').replace(/:/gu, '\\072');
}

export interface UniqueNameOptions {
  /** The delivery (or IMAP internal) date the name starts with; now by default. */
  now?: Date;
  /** Host name in the name; the machine's name by default. */
  hostname?: string;
  /** `,S=<octets>` as Dovecot writes it, so readers need no stat for the size. */
  size?: number;
}

/** A new unique name; every call in this process gets a new Q counter and 8 random bytes. */
export function uniqueName(options: UniqueNameOptions = {}): string {
  const now = options.now ?? new Date();
  const nowUs = BigInt(now.getTime()) * 1000n + (process.hrtime.bigint() / 1000n) % 1000n;
  const secs = nowUs / 1_000_000n;
  const usecs = nowUs % 1_000_000n;
  deliveries += 1;
  const random = randomBytes(8).toString('hex');
  const name = `${secs}.M${usecs}P${process.pid}Q${deliveries}R${random}.${escapeHostname(options.hostname ?? osHostname())}`;
  return options.size === undefined ? name : `${name},S=${options.size}`;
}

export interface ParsedName {
  /** The part before `:2,`, stable for the life of the message. */
  unique: string;
  /** Info (flag) letters after `:2,`; empty in new/ or without info. */
  info: string;
}

export function parseName(file: string): ParsedName {
  const colon = file.indexOf(':');
  if (colon === -1) return { unique: file, info: '' };
  const info = file.slice(colon);
  return { unique: file.slice(0, colon), info: info.startsWith(INFO_SEPARATOR) ? info.slice(INFO_SEPARATOR.length) : '' };
}

/** `unique:2,INFO` with the letters de-duplicated and in ASCII order, as the spec asks. */
export function withInfo(unique: string, info: string): string {
  const sorted = [...new Set(info)].sort().join('');
  return `${unique}${INFO_SEPARATOR}${sorted}`;
}

/** `,S=<octets>` in a unique name (the file's size, as Dovecot writes it), if there. */
export function sizeInName(unique: string): number | undefined {
  const match = /,S=(\d+)(?:,|:|$)/u.exec(unique);
  return match ? Number(match[1]) : undefined;
}

/** `,W=<octets>`: the size with CRLF line ends (Dovecot's virtual size), if there. */
export function wireSizeInName(unique: string): number | undefined {
  const match = /,W=(\d+)/u.exec(unique);
  return match ? Number(match[1]) : undefined;
}

/** Seconds the name starts with (the delivery time), when it starts with a timestamp. */
export function secondsInName(unique: string): number | undefined {
  const match = /^(\d{9,11})\./u.exec(unique);
  return match ? Number(match[1]) : undefined;
}

/**
 * Sort key for delivery order: seconds, then microseconds (then the name). A name that
 * does not follow the pattern counts as second 0, after every microsecond of it.
 */
export function deliveryKey(name: string): [seconds: number, micros: number] {
  // `M<usec>` may follow other fields (`P<pid>Q<n>M<usec>`, older writers); it is not zero-padded.
  const match = /^(\d+)\.(?:[^.]*?M(\d+))?/u.exec(name);
  return [Number(match?.[1] ?? '0'), Number(match?.[2] ?? '999999999')];
}

export function deliveryOrder(a: string, b: string): number {
  const [ka, kb] = [deliveryKey(a), deliveryKey(b)];
  if (ka[0] !== kb[0]) return ka[0] < kb[0] ? -1 : 1;
  if (ka[1] !== kb[1]) return ka[1] < kb[1] ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts in delivery order, working out each name's key once (not once per comparison),
 * into typed arrays: a 100k-message maildrop sorts without 100k key objects.
 */
export function sortByDelivery<T>(items: readonly T[], nameOf: (item: T) => string): T[] {
  const seconds = new Float64Array(items.length);
  const micros = new Float64Array(items.length);
  items.forEach((item, i) => {
    [seconds[i] = 0, micros[i] = 0] = deliveryKey(nameOf(item));
  });
  const order = new Uint32Array(items.length).map((_, i) => i);
  const name = (i: number) => nameOf(items[i] as T);
  order.sort((a, b) => {
    const bySeconds = (seconds[a] ?? 0) - (seconds[b] ?? 0);
    if (bySeconds !== 0) return bySeconds;
    const byMicros = (micros[a] ?? 0) - (micros[b] ?? 0);
    if (byMicros !== 0) return byMicros;
    return name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0;
  });
  return Array.from(order, (i) => items[i] as T);
}
