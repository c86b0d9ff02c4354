/**
 * Writing a message into a Maildir folder as the spec says (cr.yp.to/proto/maildir.html):
 * to `tmp/` under a unique name, fsync it, rename it into `new/` (or, with flags, `cur/`),
 * fsync that directory so the entry itself survives a crash; only then is it delivered.
 */
import { copyFile, link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ensureMaildirAt, folderPath, maildirPath, makeMaildir, type MessageSub } from './layout.ts';
import { uniqueName, withInfo } from './names.ts';

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, message: Buffer | Readable): Promise<number> {
  if (Buffer.isBuffer(message)) {
    await handle.writeFile(message);
    return message.length;
  }
  let size = 0;
  for await (const chunk of message) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    await handle.write(buffer);
    size += buffer.length;
  }
  return size;
}

export interface StoreRequest {
  /** The folder's directory (holding `cur/ new/ tmp/`). */
  dir: string;
  message: Buffer | Readable;
  /** Start of the unique name (the IMAP internal date); now by default. */
  date?: Date;
  hostname?: string;
  /** Info letters; a message with info goes to `cur/`, without to `new/`. */
  info?: string;
  /** Called when `tmp/` is missing, to make the folder; then the write is tried once more. */
  makeFolder?: () => Promise<void>;
  /**
   * Called once the file in `tmp/` is on disk, before it is renamed to `to`: the MDA records
   * the pending step there, so a crash between the two is finished, not repeated. A throw
   * abandons the delivery (the tmp file is removed).
   */
  beforeRename?: (from: string, to: string) => Promise<void>;
}

export interface Stored {
  /** Absolute path of the file in `new/` or `cur/`. */
  path: string;
  sub: MessageSub;
  /** The file name (`<unique>,S=<size>[:2,<info>]`). */
  file: string;
  /** The unique part, with the size in it. */
  unique: string;
  size: number;
}

/** Stores one message; resolves only after the file and its directory entry are on disk. */
export async function storeMessage(request: StoreRequest): Promise<Stored> {
  const unique = uniqueName({ ...(request.date ? { now: request.date } : {}), ...(request.hostname ? { hostname: request.hostname } : {}) });
  const tmpPath = join(request.dir, 'tmp', unique);
  let handle: FileHandle;
  try {
    handle = await open(tmpPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !request.makeFolder) throw error;
    await request.makeFolder();
    handle = await open(tmpPath, 'wx', 0o600);
  }
  const sub: MessageSub = request.info === undefined ? 'new' : 'cur';
  let stored: Stored;
  try {
    const size = await writeAll(handle, request.message);
    await handle.sync();
    await handle.close();
    // `,S=<size>` as Dovecot writes it: readers (POP3 STAT, IMAP RFC822.SIZE) need no stat.
    const sized = `${unique},S=${size}`;
    const file = request.info === undefined ? sized : withInfo(sized, request.info);
    const path = join(request.dir, sub, file);
    await request.beforeRename?.(tmpPath, path);
    await rename(tmpPath, path);
    stored = { path, sub, file, unique: sized, size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tmpPath).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(join(request.dir, sub));
  return stored;
}

/** A copy of a stored file under a new unique name in `cur/` (a hard link where it can be). */
export async function linkMessage(source: string, dir: string, unique: string, info: string): Promise<string> {
  const file = withInfo(unique, info);
  const target = join(dir, 'cur', file);
  await link(source, target).catch(() => copyFile(source, target));
  return file;
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
  beforeRename?: StoreRequest['beforeRename'];
}

export interface DeliverResult {
  /** Absolute path of the file in new/. */
  path: string;
  uniqueName: string;
  size: number;
}

/** Delivers one message to a user's folder (the MDA's path); the Maildir is made at first delivery. */
export async function deliverToMaildir(request: DeliverRequest): Promise<DeliverResult> {
  const maildir = maildirPath(request.root, request.domain, request.local);
  const dir = folderPath(maildir, request.folder);
  const stored = await storeMessage({
    dir,
    message: request.message,
    ...(request.hostname ? { hostname: request.hostname } : {}),
    ...(request.beforeRename ? { beforeRename: request.beforeRename } : {}),
    makeFolder: async () => {
      await ensureMaildirAt(maildir);
      if (dir !== maildir) await makeMaildir(dir, true);
    },
  });
  return { path: stored.path, uniqueName: stored.file, size: stored.size };
}
