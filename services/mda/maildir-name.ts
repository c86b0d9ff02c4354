/**
 * Maildir file names (cr.yp.to/proto/maildir.html): a unique name
 * `<secs>.M<usecs>P<pid>Q<counter>R<random>.<hostname>` that never changes for the life
 * of the message, plus the info `:2,<flags>` that readers add once the message is in cur/.
 * The store (IMAP APPEND), the MDA and POP3 share these helpers.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';

/** Maildir++ / Maildir spec: experimental info is `:1,`, flag info is `:2,`. */
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

/** A new unique name; every call in this process gets a new Q counter and 8 random bytes. */
export function uniqueName(now: Date = new Date(), hostname: string = osHostname()): string {
  const nowUs = BigInt(now.getTime()) * 1000n + (process.hrtime.bigint() / 1000n) % 1000n;
  const secs = nowUs / 1_000_000n;
  const usecs = nowUs % 1_000_000n;
  deliveries += 1;
  const random = randomBytes(8).toString('hex');
  return `${secs}.M${usecs}P${process.pid}Q${deliveries}R${random}.${escapeHostname(hostname)}`;
}

export interface MaildirFilename {
  /** The part before `:2,`, stable for the life of the message (POP3 UIDL, IMAP index key). */
  uniqueName: string;
  /** Flags letters after `:2,` (empty in new/ or without info). */
  flags: string;
}

export function parseMaildirFilename(filename: string): MaildirFilename {
  const colon = filename.indexOf(':');
  if (colon === -1) return { uniqueName: filename, flags: '' };
  const info = filename.slice(colon);
  return {
    uniqueName: filename.slice(0, colon),
    flags: info.startsWith(INFO_SEPARATOR) ? info.slice(INFO_SEPARATOR.length) : '',
  };
}

/** `unique:2,FLAGS` with the flags de-duplicated and in ASCII order, as the spec asks. */
export function withFlags(unique: string, flags: string): string {
  const sorted = [...new Set(flags)].sort().join('');
  return `${unique}${INFO_SEPARATOR}${sorted}`;
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
  return compareKeyed([...deliveryKey(a), a], [...deliveryKey(b), b]);
}

function compareKeyed(a: readonly [number, number, string], b: readonly [number, number, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
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

/** `,S=<octets>` in a unique name (the file's size, as Dovecot writes it), if there. */
export function sizeInName(unique: string): number | undefined {
  const match = /,S=(\d+)(?:,|$)/u.exec(unique);
  return match ? Number(match[1]) : undefined;
}
