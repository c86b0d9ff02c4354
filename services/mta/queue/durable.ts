/**
 * Durable file writes for the spool: a file is written under a temporary name, fsync'd,
 * then renamed, and the directory that holds the new name is fsync'd, so after a crash
 * either the old or the new content is there, never a torn one.
 * Directory fsyncs are group-committed by DirectorySync. (Synchronous open/write/rename
 * for small files was measured too: no gain over the thread pool, so everything is async.)
 */
import { randomBytes } from 'node:crypto';
import { fsync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Suffix of files being written; they are never read as spool content. */
export const TMP_SUFFIX = '.tmp';

const fsyncFd = promisify(fsync);

/** Writes a new file (must not exist) from `parts` with one writev and fsyncs it; the caller fsyncs the directory. */
export async function writeNewFileSynced(path: string, parts: readonly Buffer[]): Promise<void> {
  const handle = await open(path, 'wx', 0o640);
  try {
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    const { bytesWritten } = await handle.writev([...parts]);
    // A short writev (rare on a regular file) is finished by writeFile, which loops.
    if (bytesWritten < total) await handle.writeFile(Buffer.concat([...parts]).subarray(bytesWritten));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * fsyncs one directory for many callers: `sync()` resolves after an fsync that began after
 * the call, so every name created, renamed or removed before the call is durable; callers
 * arriving while an fsync runs share the next one (group commit). The directory stays open.
 */
export class DirectorySync {
  private readonly dir: string;
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  sync(): Promise<void> {
    if (this.next !== undefined) return this.next;
    if (this.running === undefined) {
      this.running = this.run();
      return this.running;
    }
    const next = this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        this.running = this.run();
        return this.running;
      });
    this.next = next;
    return next;
  }

  private async run(): Promise<void> {
    try {
      this.fd ??= openSync(this.dir, 'r');
      await fsyncFd(this.fd);
    } finally {
      this.running = undefined;
    }
  }
}

/** fsyncs a directory once (outside the hot path: at start). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` atomically: tmp name, fsync, rename, then an fsync of its directory through `dirSync`. */
export async function replaceFileDurably(path: string, data: Buffer, dirSync: DirectorySync): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
  try {
    await writeNewFileSynced(tmp, [data]);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await dirSync.sync();
}

/** Removes a name, ignoring one that is already gone; the caller fsyncs the directory. */
export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
