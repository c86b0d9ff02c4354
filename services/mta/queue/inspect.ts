/**
 * Reads the spool without changing it, for `npm run queue -- list --spool <dir>` while
 * the MTA is stopped or busy. Unlike Spool.open it discards nothing: entries being
 * written or removed meanwhile are skipped.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isQueueId, type MessageMeta, type QueueEntry, type RecipientState } from './types.ts';

export async function readSpoolEntries(dir: string): Promise<QueueEntry[]> {
  const active = join(dir, 'active');
  const entries: QueueEntry[] = [];
  const ids = await readdir(active).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? new Error(`no MTA spool in ${dir} (expected ${active})`) : error;
  });
  for (const id of ids.sort()) {
    if (!isQueueId(id)) continue;
    try {
      const meta = JSON.parse(await readFile(join(active, id, 'meta.json'), 'utf8')) as MessageMeta;
      const names = (await readdir(join(active, id))).filter((name) => /^rcpt-\d+\.json$/u.test(name)).sort();
      const recipients: RecipientState[] = [];
      for (const name of names) recipients.push(JSON.parse(await readFile(join(active, id, name), 'utf8')) as RecipientState);
      entries.push({ ...meta, recipients });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return entries;
}
