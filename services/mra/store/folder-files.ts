/**
 * The file side of a Maildir folder: listing `new/` and `cur/`, comparing a listing with
 * the index by base name, watching the directories, and reading messages with CRLF.
 */
import { closeSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import { open, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { INFO_SEPARATOR } from '../../../shared/maildir/names.ts';

export type Sub = 'new' | 'cur';

export interface Listed {
  sub: Sub;
  file: string;
  info: string;
}

/** What the comparison needs of an indexed message. */
export interface Known {
  readonly base: string;
  readonly sub: Sub;
  readonly file: string;
}

/** fs.watch events are coalesced: one readdir per burst of deliveries. */
const WATCH_DEBOUNCE_MS = 25;

/** mtimes of `new/` and `cur/`; undefined when either is missing. */
export async function dirMtimes(dir: string): Promise<{ new: number; cur: number } | undefined> {
  try {
    const [fresh, cur] = await Promise.all([stat(join(dir, 'new')), stat(join(dir, 'cur'))]);
    return { new: fresh.mtimeMs, cur: cur.mtimeMs };
  } catch {
    return undefined;
  }
}

export async function listFiles(dir: string): Promise<Array<[Sub, string[]]>> {
  const lists: Array<[Sub, string[]]> = [];
  for (const sub of ['new', 'cur'] as const) {
    try {
      lists.push([sub, await readdir(join(dir, sub))]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return lists;
}

/**
 * Compares a listing with the index. Runs over every message on each rescan, so it
 * allocates only for files that differ, plus one base-name map of the indexed messages
 * (made here, not kept: a big folder's records stay small between rescans). The set of
 * seen names is built only when some indexed message was not found (or always, for a
 * `union` of two listings).
 */
export function compareListing<E extends Known>(
  lists: ReadonlyArray<[Sub, string[]]>,
  known: readonly E[],
  union = false,
): { moved: Array<[E, Listed]>; fresh: Array<[string, Listed]>; missing: E[] } {
  const byBase = new Map<string, E>();
  for (const entry of known) byBase.set(entry.base, entry);
  const moved: Array<[E, Listed]> = [];
  const fresh = new Map<string, Listed>();
  let matched = 0;
  for (const [sub, names] of lists) {
    for (const file of names) {
      if (file.charCodeAt(0) === 46 || file.includes('\n')) continue;
      const colon = file.indexOf(INFO_SEPARATOR);
      const base = colon === -1 ? file : file.slice(0, colon);
      const entry = byBase.get(base);
      if (entry) {
        matched += 1;
        if (entry.file !== file || entry.sub !== sub) moved.push([entry, { sub, file, info: colon === -1 ? '' : file.slice(colon + INFO_SEPARATOR.length) }]);
      } else {
        fresh.set(base, { sub, file, info: colon === -1 ? '' : file.slice(colon + INFO_SEPARATOR.length) });
      }
    }
  }
  if (!union && matched >= byBase.size) return { moved, fresh: [...fresh], missing: [] };
  const seen = new Set<string>();
  for (const [, names] of lists) for (const file of names) seen.add(file.split(INFO_SEPARATOR)[0] ?? file);
  return { moved, fresh: [...fresh], missing: [...byBase.values()].filter((entry) => !seen.has(entry.base)) };
}

/** Calls `onChange` (coalesced) when files appear, move or go in `new/` or `cur/`. */
export class FolderWatcher {
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(dir: string, onChange: () => Promise<void>, onError: (error: unknown) => void) {
    const fire = () => {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        onChange().catch(onError);
      }, WATCH_DEBOUNCE_MS);
    };
    for (const sub of ['new', 'cur']) {
      try {
        const watcher = watch(join(dir, sub), { persistent: false }, fire);
        watcher.on('error', onError);
        this.watchers.push(watcher);
      } catch (error) {
        onError(error);
      }
    }
  }

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Renames in flight at once (each is one thread-pool round trip). */
const RENAME_BATCH = 32;

/** Renames each pair, several at a time; per pair 'done', 'gone' (ENOENT: moved or removed meanwhile) or the error. */
export async function renameAll(pairs: ReadonlyArray<readonly [string, string]>): Promise<Array<'done' | 'gone' | Error>> {
  const outcomes: Array<'done' | 'gone' | Error> = [];
  for (let start = 0; start < pairs.length; start += RENAME_BATCH) {
    const settled = await Promise.allSettled(pairs.slice(start, start + RENAME_BATCH).map(([from, to]) => rename(from, to)));
    for (const result of settled) {
      if (result.status === 'fulfilled') outcomes.push('done');
      else outcomes.push((result.reason as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : (result.reason as Error));
    }
  }
  return outcomes;
}

/** Turns bare LF line ends into CRLF (RFC 3501 §2.1 counts octets with CRLF). */
export function toCrlf(data: Buffer): Buffer {
  if (!data.includes(10)) return data;
  let bare = false;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) {
    if (i === 0 || data[i - 1] !== 13) {
      bare = true;
      break;
    }
  }
  if (!bare) return data;
  return Buffer.from(data.toString('latin1').replace(/\r?\n/gu, '\r\n'), 'latin1');
}

/** Header blocks are read in chunks of this size, and given up on (returned as read) past the limit. */
const HEADER_CHUNK_BYTES = 16 * 1024;
const MAX_HEADER_BYTES = 1024 * 1024;

/** Length of the header block (with its blank line) in `data`, or -1 when it does not end there yet. */
function headerEnd(data: Buffer, searchFrom: number): number {
  if (data[0] === 10) return 1;
  if (data[0] === 13 && data[1] === 10) return 2;
  const crlf = data.indexOf('\r\n\r\n', searchFrom);
  const lf = data.indexOf('\n\n', searchFrom);
  return crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 4 : lf !== -1 ? lf + 2 : -1;
}

/** Collects chunks of a file until its header block ends (or the limit); the CRLF-normalized header. */
class HeaderCollector {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private searchFrom = 0;
  /** Set once the header is complete. */
  header: Buffer | undefined;

  /** Where the next chunk is read from, or undefined when done. */
  next(): number | undefined {
    return this.header === undefined && this.total < MAX_HEADER_BYTES ? this.total : undefined;
  }

  take(chunk: Buffer, bytesRead: number): void {
    if (bytesRead === 0) {
      this.header = toCrlf(Buffer.concat(this.chunks));
      return;
    }
    this.chunks.push(chunk.subarray(0, bytesRead));
    this.total += bytesRead;
    const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const end = headerEnd(data, this.searchFrom);
    if (end !== -1) this.header = toCrlf(Buffer.from(data.subarray(0, end)));
    else if (this.total >= MAX_HEADER_BYTES) this.header = toCrlf(data);
    this.searchFrom = Math.max(0, this.total - 3);
  }
}

/** Reads a message file only up to the blank line that ends its header (CRLF-normalized). */
export async function readHeaderBlock(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const collector = new HeaderCollector();
    for (let at = collector.next(); at !== undefined; at = collector.next()) {
      const chunk = Buffer.allocUnsafe(HEADER_CHUNK_BYTES);
      collector.take(chunk, (await handle.read(chunk, 0, HEADER_CHUNK_BYTES, at)).bytesRead);
    }
    return collector.header ?? Buffer.alloc(0);
  } finally {
    await handle.close();
  }
}

/**
 * The same with synchronous calls, for the small files of a mailbox in the page cache:
 * open, read and close through the thread pool cost more than the reads, and several
 * sessions reading headers at once (a FETCH 1:* ENVELOPE from 8 clients) queue there.
 */
export function readHeaderBlockSync(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const collector = new HeaderCollector();
    for (let at = collector.next(); at !== undefined; at = collector.next()) {
      const chunk = Buffer.allocUnsafe(HEADER_CHUNK_BYTES);
      collector.take(chunk, readSync(fd, chunk, 0, HEADER_CHUNK_BYTES, at));
    }
    return collector.header ?? Buffer.alloc(0);
  } finally {
    closeSync(fd);
  }
}
