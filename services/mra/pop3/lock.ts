/**
 * RFC 1939 §8: a POP3 session holds an exclusive-access lock on its maildrop. Sessions of
 * this process check an in-process table; other MRA processes see a lock file in the
 * Maildir, `mxlab-pop3.lock`, which names its holder and is touched while held so a
 * crashed holder's lock goes stale.
 */
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LOCK_REFRESH_MS, STALE_LOCK_MS } from './limits.ts';

export const LOCK_FILE_NAME = 'mxlab-pop3.lock';

const heldHere = new Set<string>();

export interface MaildropLock {
  release(): Promise<void>;
}

interface LockOwner {
  host: string;
  pid: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string): Promise<boolean> {
  let owner: Partial<LockOwner>;
  let mtimeMs: number;
  try {
    [owner, mtimeMs] = [JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>, (await stat(path)).mtimeMs];
  } catch (error) {
    // gone (released meanwhile) or half-written by a holder that died
    return (error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError;
  }
  if (Date.now() - mtimeMs > STALE_LOCK_MS) return true;
  if (owner.host !== hostname() || typeof owner.pid !== 'number') return false;
  // a lock of this host's process: stale if that process is gone, or if it is us (a
  // restarted container reuses pids) and no session of ours holds it
  return owner.pid === process.pid || !processAlive(owner.pid);
}

async function createLockFile(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify({ host: hostname(), pid: process.pid, since: new Date().toISOString() }));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Takes the maildrop's lock, or returns undefined when another session holds it. */
export async function lockMaildrop(maildir: string): Promise<MaildropLock | undefined> {
  const path = join(maildir, LOCK_FILE_NAME);
  if (heldHere.has(path)) return undefined;
  heldHere.add(path);
  try {
    let created = await createLockFile(path);
    if (!created && (await isStale(path))) {
      await unlink(path).catch(() => undefined);
      created = await createLockFile(path);
    }
    if (!created) {
      heldHere.delete(path);
      return undefined;
    }
  } catch (error) {
    heldHere.delete(path);
    throw error;
  }
  const refresh = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, LOCK_REFRESH_MS);
  refresh.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      await unlink(path).catch(() => undefined);
      heldHere.delete(path);
    },
  };
}
