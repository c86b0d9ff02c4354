/**
 * Reads the spool without changing it, for `npm run queue -- list --spool <dir>` while
 * the MTA is stopped or busy. Unlike Spool.open it discards nothing: entries being
 * written or removed meanwhile are skipped.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MESSAGE_SUFFIX, parseStates, readEnvelope, STATE_SUFFIX, type Envelope } from './format.ts';
import { isQueueId, type QueueEntry } from './types.ts';

async function readCurrent(active: string, id: string): Promise<Envelope> {
  const envelope = await readEnvelope(join(active, `${id}${MESSAGE_SUFFIX}`));
  const stateText = await readFile(join(active, `${id}${STATE_SUFFIX}`), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return stateText === undefined ? envelope : { meta: envelope.meta, recipients: parseStates(stateText) };
}

export async function readSpoolEntries(dir: string): Promise<QueueEntry[]> {
  const active = join(dir, 'active');
  const entries: QueueEntry[] = [];
  const names = await readdir(active).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? new Error(`no MTA spool in ${dir} (expected ${active})`) : error;
  });
  const seen = new Set<string>();
  for (const name of names.sort()) {
    if (!name.endsWith(MESSAGE_SUFFIX)) continue;
    const id = name.slice(0, -MESSAGE_SUFFIX.length);
    if (!isQueueId(id) || seen.has(id)) continue;
    try {
      const { meta, recipients } = await readCurrent(active, id);
      seen.add(id);
      entries.push({ ...meta, recipients });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return entries;
}
