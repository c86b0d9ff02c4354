/**
 * The per-folder index that keeps UIDs stable: `mxlab-index` maps each message's base
 * name to its UID, mod-sequence, size and internal date, so a folder opens with one
 * readdir and this file, never reading the messages. Written whole to a temporary file
 * and renamed over the old one, so a reader sees either version, never half of one.
 * Keywords live beside it in `dovecot-keywords` (`<letter index> <keyword>` per line).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const INDEX_FILE = 'mxlab-index';
export const KEYWORDS_FILE = 'dovecot-keywords';
const INDEX_VERSION = 'mxlab-index v1';

export interface IndexEntry {
  uid: number;
  modseq: number;
  /** Octets as IMAP counts them; undefined until known. */
  size: number | undefined;
  internalDateMs: number;
  /** Info letters when last seen, to notice flag changes made by others. */
  info: string;
  base: string;
}

export interface FolderIndex {
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  entries: IndexEntry[];
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Undefined when the folder has no index yet (or an unreadable one: UIDs start over). */
export async function readIndex(dir: string): Promise<FolderIndex | undefined> {
  const text = await readIfExists(join(dir, INDEX_FILE));
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const header = /^mxlab-index v1 (\d+) (\d+) (\d+)$/u.exec(lines[0] ?? '');
  if (!header) return undefined;
  const entries: IndexEntry[] = [];
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const match = /^(\d+) (\d+) (\d+|-) (\d+) (\S*) (.+)$/u.exec(line);
    if (!match) continue;
    const [, uid, modseq, size, date, info, base] = match;
    entries.push({
      uid: Number(uid),
      modseq: Number(modseq),
      size: size === '-' ? undefined : Number(size),
      internalDateMs: Number(date),
      info: info === '-' ? '' : (info ?? ''),
      base: base ?? '',
    });
  }
  return { uidValidity: Number(header[1]), uidNext: Number(header[2]), highestModseq: Number(header[3]), entries };
}

export function formatIndex(index: FolderIndex): string {
  const parts = [`${INDEX_VERSION} ${index.uidValidity} ${index.uidNext} ${index.highestModseq}\n`];
  for (const entry of index.entries) {
    parts.push(`${entry.uid} ${entry.modseq} ${entry.size ?? '-'} ${entry.internalDateMs} ${entry.info === '' ? '-' : entry.info} ${entry.base}\n`);
  }
  return parts.join('');
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
