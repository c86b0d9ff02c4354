/**
 * The per-folder index that keeps UIDs stable: `mxlab-index.json` maps each message's base
 * name to its UID, mod-sequence, size and internal date, so a folder opens with one
 * readdir and this file, never reading the messages. Written whole to a temporary file
 * and renamed over the old one, so a reader sees either version, never half of one.
 * Keywords live beside it in `dovecot-keywords` (`<letter index> <keyword>` per line).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const INDEX_FILE = 'mxlab-index.json';
export const KEYWORDS_FILE = 'dovecot-keywords';
const INDEX_VERSION = 2;

/** What the index records of one message (the folder's own records have these fields). */
export interface IndexEntry {
  readonly uid: number;
  readonly modseq: number;
  /** Octets as IMAP counts them; undefined until known. */
  readonly size: number | undefined;
  readonly internalDateMs: number;
  /** Where the file was when last seen: `new/` or `cur/`, under this exact name. */
  readonly sub: 'new' | 'cur';
  readonly file: string;
}

export interface IndexHead {
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /**
   * mtimes of `new/` and `cur/` when the listing this index reflects was taken; equal
   * mtimes at open mean nothing was added, renamed or removed since (as Dovecot trusts).
   */
  dirMtimes: DirMtimes | undefined;
}

/** One message in the file: `[uid, modseq, size|null, internalDateMs, "n"|"c", file]`. */
export type IndexRow = [uid: number, modseq: number, size: number | null, internalDateMs: number, sub: 'n' | 'c', file: string];

export interface FolderIndex extends IndexHead {
  /** Checked rows, in file order (UID order); the folder turns them into its records. */
  rows: readonly IndexRow[];
}

let lastUidValidity = 0;

/** The index of a folder that has none yet: a UIDVALIDITY never handed out before (RFC 3501 §2.3.1.1). */
export function newIndex(): FolderIndex {
  lastUidValidity = Math.max(lastUidValidity + 1, Math.floor(Date.now() / 1000));
  return { uidValidity: lastUidValidity, uidNext: 1, highestModseq: 1, dirMtimes: undefined, rows: [] };
}

export interface DirMtimes {
  new: number;
  cur: number;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isRow(row: unknown): row is IndexRow {
  return (
    Array.isArray(row) && row.length === 6 && Number.isSafeInteger(row[0]) && Number.isSafeInteger(row[1]) &&
    (row[2] === null || Number.isSafeInteger(row[2])) && typeof row[3] === 'number' && (row[4] === 'n' || row[4] === 'c') && typeof row[5] === 'string' && row[5] !== ''
  );
}

function isMtimes(value: unknown): value is DirMtimes {
  return typeof value === 'object' && value !== null && typeof (value as DirMtimes).new === 'number' && typeof (value as DirMtimes).cur === 'number';
}

/**
 * Undefined when the folder has no index yet (or an unreadable one: UIDs start over
 * with a new UIDVALIDITY, which tells clients to forget their caches).
 * JSON, because the engine parses it far faster than any hand-made line format.
 */
export async function readIndex(dir: string): Promise<FolderIndex | undefined> {
  const text = await readIfExists(join(dir, INDEX_FILE));
  if (text === undefined) return undefined;
  let data: { version?: unknown; uidValidity?: unknown; uidNext?: unknown; highestModseq?: unknown; dirMtimes?: unknown; entries?: unknown };
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    return undefined;
  }
  const { uidValidity, uidNext, highestModseq, entries } = data;
  if (data.version !== INDEX_VERSION || !Number.isSafeInteger(uidValidity) || !Number.isSafeInteger(uidNext) || !Number.isSafeInteger(highestModseq) || !Array.isArray(entries)) {
    return undefined;
  }
  const rows = (entries as unknown[]).filter(isRow);
  const dirMtimes = isMtimes(data.dirMtimes) ? data.dirMtimes : undefined;
  return { uidValidity: uidValidity as number, uidNext: uidNext as number, highestModseq: highestModseq as number, dirMtimes, rows };
}

/** Rows per piece of text written: a big index is never one string in memory. */
const ROWS_PER_CHUNK = 2048;

/** The index file's text in pieces (joined, they are one JSON document). */
export function* formatIndex(head: IndexHead, entries: readonly IndexEntry[]): Generator<string> {
  const top = { version: INDEX_VERSION, uidValidity: head.uidValidity, uidNext: head.uidNext, highestModseq: head.highestModseq, dirMtimes: head.dirMtimes ?? null };
  let text = `${JSON.stringify(top).slice(0, -1)},"entries":[`;
  for (let i = 0; i < entries.length; i += 1) {
    const entry = entries[i] as IndexEntry;
    text += `${i === 0 ? '' : ','}[${entry.uid},${entry.modseq},${entry.size ?? 'null'},${entry.internalDateMs},"${entry.sub === 'new' ? 'n' : 'c'}",${JSON.stringify(entry.file)}]`;
    if ((i + 1) % ROWS_PER_CHUNK === 0) {
      yield text;
      text = '';
    }
  }
  yield `${text}]}\n`;
}

/** Writes to a temporary file, fsyncs, and renames it over `path`: readers see the old or the new file, whole. */
export async function writeFileAtomic(path: string, text: string | Iterable<string>): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    if (typeof text === 'string') await handle.writeFile(text);
    else for (const piece of text) await handle.write(piece);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(tmp, path);
}

export async function writeIndex(dir: string, head: IndexHead, entries: readonly IndexEntry[]): Promise<void> {
  await writeFileAtomic(join(dir, INDEX_FILE), formatIndex(head, entries));
}

export async function readKeywords(dir: string): Promise<string[]> {
  const text = await readIfExists(join(dir, KEYWORDS_FILE));
  const keywords: string[] = [];
  for (const line of (text ?? '').split('\n')) {
    const match = /^(\d+) (\S+)$/u.exec(line);
    if (match) keywords[Number(match[1])] = match[2] ?? '';
  }
  return keywords;
}

export async function writeKeywords(dir: string, keywords: readonly string[]): Promise<void> {
  await writeFileAtomic(join(dir, KEYWORDS_FILE), keywords.map((keyword, i) => `${i} ${keyword}\n`).join(''));
}

/** Flag-only index changes are written at most this often; UID assignments at once. */
const INDEX_WRITE_DELAY_MS = 1000;

/**
 * Keeps one folder's index file behind memory by at most INDEX_WRITE_DELAY_MS: writes
 * run one after another, each writing the state of its turn, and only when something changed.
 */
export class IndexWriter {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly dir: string;
  private readonly snapshot: () => { head: IndexHead; entries: readonly IndexEntry[] };
  private readonly onError: (error: unknown) => void;

  constructor(dir: string, snapshot: () => { head: IndexHead; entries: readonly IndexEntry[] }, onError: (error: unknown) => void) {
    this.dir = dir;
    this.snapshot = snapshot;
    this.onError = onError;
  }

  markDirty(): void {
    this.dirty = true;
  }

  private stopped = false;

  /** No more writes: the folder's directory was deleted or renamed away under an open handle. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A lazy write: soon, but not for every flag change. */
  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.onError);
    }, INDEX_WRITE_DELAY_MS);
    this.timer.unref();
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const run = this.chain.then(() => this.writeNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async writeNow(): Promise<void> {
    if (!this.dirty || this.stopped) return;
    this.dirty = false;
    try {
      const { head, entries } = this.snapshot();
      await writeIndex(this.dir, head, entries);
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }
}
