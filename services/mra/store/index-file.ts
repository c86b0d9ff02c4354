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
import { INFO_SEPARATOR } from './maildir-names.ts';

export const INDEX_FILE = 'mxlab-index.json';
export const KEYWORDS_FILE = 'dovecot-keywords';
const INDEX_VERSION = 2;

export interface IndexEntry {
  uid: number;
  modseq: number;
  /** Octets as IMAP counts them; undefined until known. */
  size: number | undefined;
  internalDateMs: number;
  /** Info letters when last seen, to notice flag changes made by others. */
  info: string;
  base: string;
  /** Where the file was when last seen: `new/` or `cur/`, under this exact name. */
  sub: 'new' | 'cur';
  file: string;
}

export interface FolderIndex {
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /**
   * mtimes of `new/` and `cur/` when the listing this index reflects was taken; equal
   * mtimes at open mean nothing was added, renamed or removed since (as Dovecot trusts).
   */
  dirMtimes: DirMtimes | undefined;
  entries: readonly IndexEntry[];
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

type IndexRow = [uid: number, modseq: number, size: number | null, internalDateMs: number, sub: 'n' | 'c', file: string];

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
  const result: IndexEntry[] = [];
  for (const row of entries as unknown[]) {
    if (!isRow(row)) continue;
    const file = row[5];
    const colon = file.indexOf(INFO_SEPARATOR);
    result.push({
      uid: row[0], modseq: row[1], size: row[2] ?? undefined, internalDateMs: row[3], sub: row[4] === 'n' ? 'new' : 'cur', file,
      base: colon === -1 ? file : file.slice(0, colon), info: colon === -1 ? '' : file.slice(colon + INFO_SEPARATOR.length),
    });
  }
  const dirMtimes = isMtimes(data.dirMtimes) ? data.dirMtimes : undefined;
  return { uidValidity: uidValidity as number, uidNext: uidNext as number, highestModseq: highestModseq as number, dirMtimes, entries: result };
}

export function formatIndex(index: FolderIndex): string {
  const rows = index.entries.map((entry): IndexRow => [entry.uid, entry.modseq, entry.size ?? null, entry.internalDateMs, entry.sub === 'new' ? 'n' : 'c', entry.file]);
  const head = { version: INDEX_VERSION, uidValidity: index.uidValidity, uidNext: index.uidNext, highestModseq: index.highestModseq, dirMtimes: index.dirMtimes ?? null };
  return `${JSON.stringify(head).slice(0, -1)},"entries":${JSON.stringify(rows)}}\n`;
}

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(tmp, path);
}

export async function writeIndex(dir: string, index: FolderIndex): Promise<void> {
  await writeFileAtomic(join(dir, INDEX_FILE), formatIndex(index));
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
  private readonly snapshot: () => FolderIndex;
  private readonly onError: (error: unknown) => void;

  constructor(dir: string, snapshot: () => FolderIndex, onError: (error: unknown) => void) {
    this.dir = dir;
    this.snapshot = snapshot;
    this.onError = onError;
  }

  markDirty(): void {
    this.dirty = true;
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
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await writeIndex(this.dir, this.snapshot());
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }
}
