/**
 * Maildir delivery as the spec says (cr.yp.to/proto/maildir.html): write the message to
 * tmp/ under a unique name, fsync it, move it into new/, fsync new/ so the entry itself
 * survives a crash; only then is the message delivered. The user's Maildir++ root and its
 * standard folders are made at first delivery.
 */
import { mkdir, open, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { parseAddress } from '../../shared/address.ts';
import { uniqueName } from './maildir-name.ts';

/** DESIGN.md: the Maildir++ folders every user has. */
export const STANDARD_FOLDERS = ['Sent', 'Drafts', 'Junk', 'Trash'] as const;

const SUBDIRS = ['cur', 'new', 'tmp'] as const;

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
  const name = folder.startsWith('.') ? folder.slice(1) : folder;
  if (name === '' || /[/\\\u0000-\u001f\u007f]/u.test(name) || name.split('.').some((part) => part === '')) {
    throw new MaildirPathError(`invalid folder name ${JSON.stringify(folder)}`);
  }
  const path = join(maildir, `.${name}`);
  if (!path.startsWith(maildir + sep)) throw new MaildirPathError(`folder escapes the Maildir: ${folder}`);
  return path;
}

async function makeMaildir(dir: string, isFolder: boolean): Promise<void> {
  for (const sub of SUBDIRS) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  if (!isFolder) return;
  try {
    await writeFile(join(dir, 'maildirfolder'), '', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Makes the user's Maildir++ (cur/ new/ tmp/ and the standard folders) if missing; returns its path. */
export async function ensureMaildir(root: string, domain: string, local: string): Promise<string> {
  const maildir = maildirPath(root, domain, local);
  await makeMaildir(maildir, false);
  for (const folder of STANDARD_FOLDERS) await makeMaildir(folderPath(maildir, folder), true);
  return maildir;
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface DeliverRequest {
  root: string;
  domain: string;
  /** Canonical (lower-cased, alias-resolved) local part. */
  local: string;
  /** Maildir++ folder ('Junk', '.Junk'); INBOX when omitted. */
  folder?: string;
  message: Buffer | Readable;
  /** Host name in the unique name; the machine's name by default. */
  hostname?: string;
}

export interface DeliverResult {
  /** Absolute path of the file in new/. */
  path: string;
  uniqueName: string;
  size: number;
}

/** Delivers one message; resolves only after the file and its new/ entry are on disk. */
export async function deliverToMaildir(request: DeliverRequest): Promise<DeliverResult> {
  const maildir = maildirPath(request.root, request.domain, request.local);
  const dir = folderPath(maildir, request.folder);
  const unique = uniqueName(new Date(), request.hostname ?? osHostname());
  const tmpPath = join(dir, 'tmp', unique);
  let handle: FileHandle;
  try {
    handle = await open(tmpPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // first delivery to this user or folder
    await ensureMaildir(request.root, request.domain, request.local);
    if (dir !== maildir) await makeMaildir(dir, true);
    handle = await open(tmpPath, 'wx', 0o600);
  }
  let size = 0;
  let name: string;
  try {
    if (Buffer.isBuffer(request.message)) {
      await handle.writeFile(request.message);
      size = request.message.length;
    } else {
      for await (const chunk of request.message) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        await handle.write(buffer);
        size += buffer.length;
      }
    }
    await handle.sync();
    await handle.close();
    // `,S=<size>` as Dovecot writes it: readers (POP3 STAT, IMAP RFC822.SIZE) need no stat.
    name = `${unique},S=${size}`;
    await rename(tmpPath, join(dir, 'new', name));
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tmpPath).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(join(dir, 'new'));
  return { path: join(dir, 'new', name), uniqueName: name, size };
}
