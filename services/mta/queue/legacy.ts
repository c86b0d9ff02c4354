/**
 * The spool layout of earlier versions, still read so that a queue left on a volume is
 * delivered: one directory per message,
 *
 *   active/<queueId>/message.eml   the message
 *   active/<queueId>/meta.json     MessageMeta
 *   active/<queueId>/rcpt-<n>.json one state file per recipient
 *
 * Spool.open migrates such a directory into the one-file format (format.ts).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TMP_SUFFIX } from './durable.ts';
import type { Envelope } from './format.ts';
import type { MessageMeta, RecipientState } from './types.ts';

export const LEGACY_MESSAGE_FILE = 'message.eml';
const META_FILE = 'meta.json';
const RCPT_FILE = /^rcpt-\d+\.json$/u;

/** Reads and checks one old-layout message directory (ignores half-written .tmp files). */
export async function readLegacyEnvelope(dir: string, queueId: string): Promise<Envelope> {
  const meta = JSON.parse(await readFile(join(dir, META_FILE), 'utf8')) as MessageMeta;
  if (meta.queueId !== queueId) throw new Error('meta.json names another queue id');
  const size = (await stat(join(dir, LEGACY_MESSAGE_FILE))).size;
  if (size !== meta.size) throw new Error(`message.eml has ${size} bytes, meta.json says ${meta.size}`);
  const recipients: RecipientState[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith(TMP_SUFFIX) && RCPT_FILE.test(name)) {
      recipients.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as RecipientState);
    }
  }
  if (recipients.length === 0) throw new Error('no recipient state files');
  return { meta, recipients };
}
