/**
 * Maildir++ layout: a user's root `<mailRoot>/<domain>/<local>/` is INBOX, with
 * `cur/ new/ tmp/`; every other folder `A.B` is the directory `.A.B` directly under the
 * root, holding its own `cur/ new/ tmp/` and an empty `maildirfolder` file. Nothing
 * here can name a path outside the mail root.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { parseAddress } from '../address.ts';

/** DESIGN.md: the Maildir++ folders every user has. */
export const STANDARD_FOLDERS = ['Sent', 'Drafts', 'Junk', 'Trash'] as const;

/** The directories of every Maildir folder; only `new/` and `cur/` hold messages. */
export const SUBDIRS = ['cur', 'new', 'tmp'] as const;
export type MessageSub = 'new' | 'cur';

/** Maildir++ hierarchy delimiter, and the prefix of a folder's directory. */
export const FOLDER_DELIMITER = '.';

export class MaildirPathError extends Error {
  override readonly name = 'MaildirPathError';
}

/**
 * The user's Maildir++ root, `<root>/<domain>/<local>`, built only from an address that
 * passes shared/address.ts, and checked to stay inside `root`.
 */
export function maildirPath(root: string, domain: string, local: string): string {
  const parsed = parseAddress(`${local}@${domain}`);
  if (!parsed.ok) throw new MaildirPathError(`refusing mailbox ${JSON.stringify(`${local}@${domain}`)}: ${parsed.reason}`);
  const { domain: cleanDomain } = parsed.address;
  const cleanLocal = parsed.address.local.toLowerCase();
  const base = resolve(root);
  const path = resolve(base, cleanDomain, cleanLocal);
  if (!path.startsWith(base + sep) || path === base) throw new MaildirPathError(`mailbox path escapes the mail root: ${path}`);
  return path;
}

/**
 * Directory of a Maildir++ folder: undefined, '' or 'INBOX' is the root; 'Junk' (or
 * '.Junk') is `<maildir>/.Junk`; nested folders use '.' (`Archive.2024`).
 */
export function folderPath(maildir: string, folder?: string): string {
  if (folder === undefined || folder === '' || folder.toUpperCase() === 'INBOX') return maildir;
  const name = folder.startsWith(FOLDER_DELIMITER) ? folder.slice(1) : folder;
  if (name === '' || /[/\\\u0000-\u001f\u007f]/u.test(name) || name.split(FOLDER_DELIMITER).some((part) => part === '')) {
    throw new MaildirPathError(`invalid folder name ${JSON.stringify(folder)}`);
  }
  const path = join(maildir, `${FOLDER_DELIMITER}${name}`);
  if (!path.startsWith(maildir + sep)) throw new MaildirPathError(`folder escapes the Maildir: ${folder}`);
  return path;
}

/** A folder directory entry (`.Sent`) → its folder name, or undefined for any other entry. */
export function folderOfEntry(entry: string): string | undefined {
  if (!entry.startsWith(FOLDER_DELIMITER) || entry === '.' || entry === '..') return undefined;
  return entry.slice(1);
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A folder exists when its `cur/` does. */
export function isMaildir(dir: string): Promise<boolean> {
  return pathExists(join(dir, 'cur'));
}

/** Makes `cur/ new/ tmp/` (and, for a folder, `maildirfolder`) if missing. */
export async function makeMaildir(dir: string, isFolder: boolean): Promise<void> {
  for (const sub of SUBDIRS) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  if (!isFolder) return;
  try {
    await writeFile(join(dir, 'maildirfolder'), '', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Makes the Maildir++ root `dir` and the standard folders where missing. */
export async function ensureMaildirAt(dir: string): Promise<void> {
  await makeMaildir(dir, false);
  for (const folder of STANDARD_FOLDERS) {
    const path = folderPath(dir, folder);
    if (!(await isMaildir(path))) await makeMaildir(path, true);
  }
}

/** Makes the user's Maildir++ (cur/ new/ tmp/ and the standard folders) if missing; returns its path. */
export async function ensureMaildir(root: string, domain: string, local: string): Promise<string> {
  const maildir = maildirPath(root, domain, local);
  await ensureMaildirAt(maildir);
  return maildir;
}
