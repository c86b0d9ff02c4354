/**
 * Durable file writes for the spool: a file is written under a temporary name, fsync'd,
 * then renamed, and the directory that holds the new name is fsync'd, so after a crash
 * either the old or the new content is there, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Suffix of files being written; they are never read as spool content. */
export const TMP_SUFFIX = '.tmp';

/** Writes a new file (must not exist) and fsyncs it; the caller fsyncs the directory. */
export async function writeNewFileSynced(path: string, data: Buffer | string): Promise<void> {
  const handle = await open(path, 'wx', 0o640);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory so that the names created, renamed or removed in it are durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` atomically: tmp name, fsync, rename, fsync of the directory. */
export async function replaceFileDurably(path: string, data: Buffer | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
  try {
    await writeNewFileSynced(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}
