/**
 * Durable file writes for the spool: a file is written under a temporary name, fsync'd,
 * then renamed, and the directory that holds the new name is fsync'd, so after a crash
 * either the old or the new content is there, never a torn one.
 * Directory fsyncs are group-committed by DirectorySync.
 *
 * Only the fsyncs wait on the disk, so only they go through libuv's thread pool. open,
 * write, close, rename and unlink of a small file are page-cache and inode work of a few
 * microseconds, done synchronously: each thread-pool call costs two thread wake-ups, and
 * on the lab VM those wake-ups cost more CPU than the calls themselves (perf, 2026-11-23:
 * a quarter of the MTA's CPU in the pool's threads and in scheduler paths; per enqueue +
 * removal 7 pool round trips before, 2 now).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Suffix of files being written; they are never read as spool content. */
export const TMP_SUFFIX = '.tmp';

const fsyncFd = promisify(fsync);

function writeAll(fd: number, parts: readonly Buffer[]): number {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  let written = writevSync(fd, [...parts], 0);
  // A short writev (rare on a regular file) is finished with plain writes.
  if (written < total) {
    const rest = Buffer.concat([...parts]);
    while (written < total) written += writeSync(fd, rest, written, total - written, written);
  }
  return total;
}

/** Writes a new file (must not exist) from `parts` and fsyncs it; the caller fsyncs the directory. */
export async function writeNewFileSynced(path: string, parts: readonly Buffer[]): Promise<void> {
  const fd = openSync(path, 'wx', 0o640);
  try {
    writeAll(fd, parts);
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Overwrites an existing file with `parts` (written from offset 0, then cut to their
 * length) and fsyncs it. The spool recycles the files of finished messages this way:
 * on ext4 without a journal (the lab VM's disk) every new inode is looked for past all
 * the inodes freed in the last minutes (`recently_deleted`), which made creating a queue
 * file cost ~300 µs of kernel time at a few hundred messages a second; an overwrite ~100.
 */
export async function rewriteFileSynced(path: string, parts: readonly Buffer[]): Promise<void> {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, writeAll(fd, parts));
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
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
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` atomically: tmp name, fsync, rename, then an fsync of its directory through `dirSync`. */
export async function replaceFileDurably(path: string, data: Buffer, dirSync: DirectorySync): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
  try {
    await writeNewFileSynced(tmp, [data]);
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkIfPresent(tmp);
    } catch {
      // the original error is the one to report
    }
    throw error;
  }
  await dirSync.sync();
}

/** Removes a name, ignoring one that is already gone; the caller fsyncs the directory. */
export function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
