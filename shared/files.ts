/**
 * Small durable-file helpers: a file is written under a temporary name and fsync'd,
 * then either renamed over the target (replace) or linked to it only if the target does
 * not exist yet (create once: the first of several starting agents wins).
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';

/** Writes a file that must not exist yet (`wx`) and fsyncs it before it resolves. */
export async function writeNewFile(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeTemporary(path: string, text: string, mode: number): Promise<string> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeNewFile(tmp, text, mode);
  return tmp;
}

/** Replaces `path` with `text` atomically. */
export async function replaceFile(path: string, text: string, mode = 0o644): Promise<void> {
  await rename(await writeTemporary(path, text, mode), path);
}

/** Creates `path` with `text` unless it exists; true when this call created it. */
export async function createFileOnce(path: string, text: string, mode = 0o644): Promise<boolean> {
  const tmp = await writeTemporary(path, text, mode);
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(tmp);
  }
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
