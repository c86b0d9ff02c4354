/**
 * The POP3 maildrop: the user's INBOX (new/ and cur/ of the Maildir++ root) as a list
 * fixed when the session starts (RFC 1939 §8: later deliveries wait for the next
 * session), under the session's exclusive lock. Messages are tracked by their Maildir
 * unique name, so renames by the IMAP server (flag changes) do not lose them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Account } from '../../../shared/users.ts';
import { deliveryOrder, parseMaildirFilename, withFlags } from '../../mda/maildir-name.ts';
import { ensureMaildir } from '../../mda/maildir.ts';
import { MAX_UIDL_LENGTH } from './limits.ts';
import { lockMaildrop } from './lock.ts';

export interface MaildropMessage {
  /** RFC 1939 §7 unique-id, stable across sessions. */
  readonly uidl: string;
  /** Octets of the stored message (the file size; messages are stored with CRLF). */
  readonly size: number;
}

export interface Maildrop {
  /** Fixed for the session, in delivery order; message-number n is index n - 1. */
  readonly messages: readonly MaildropMessage[];
  read(index: number): Promise<Buffer>;
  /** RETR marks the message \Seen (the `S` flag, moving it from new/ to cur/). */
  markSeen(index: number): Promise<void>;
  /** Removes the messages for good (RFC 1939 §6 UPDATE state); returns how many could not be removed. */
  remove(indices: readonly number[]): Promise<number>;
  /** Releases the lock. */
  close(): Promise<void>;
}

export interface MaildropStore {
  /** Opens and locks the account's maildrop; 'locked' when another session holds it. */
  open(account: Account): Promise<Maildrop | 'locked'>;
}

export class MessageGoneError extends Error {
  override readonly name = 'MessageGoneError';
}

/** RFC 1939 §7: 1 to 70 characters in 0x21..0x7E; a longer name is replaced by its digest. */
export function uidlOf(uniqueName: string): string {
  if (uniqueName.length <= MAX_UIDL_LENGTH && /^[\x21-\x7e]+$/u.test(uniqueName)) return uniqueName;
  return createHash('sha256').update(uniqueName).digest('base64url');
}

interface Entry {
  unique: string;
  uidl: string;
  size: number;
  /** Current path; updated when we rename or find the file renamed by someone else. */
  path: string;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith('.'));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

class MaildirMaildrop implements Maildrop {
  readonly messages: readonly MaildropMessage[];
  private readonly entries: Entry[];
  private readonly maildir: string;
  private readonly unlock: () => Promise<void>;

  constructor(maildir: string, entries: Entry[], unlock: () => Promise<void>) {
    this.maildir = maildir;
    this.entries = entries;
    this.messages = entries.map((entry) => ({ uidl: entry.uidl, size: entry.size }));
    this.unlock = unlock;
  }

  private entry(index: number): Entry {
    const entry = this.entries[index];
    if (!entry) throw new RangeError(`no message ${index + 1}`);
    return entry;
  }

  /** Finds the file of a message after someone else renamed it; undefined if it is gone. */
  private async relocate(entry: Entry): Promise<string | undefined> {
    for (const sub of ['cur', 'new'] as const) {
      for (const name of await listDir(join(this.maildir, sub))) {
        if (parseMaildirFilename(name).uniqueName === entry.unique) {
          entry.path = join(this.maildir, sub, name);
          return entry.path;
        }
      }
    }
    return undefined;
  }

  private async withFile<T>(entry: Entry, action: (path: string) => Promise<T>): Promise<T> {
    try {
      return await action(entry.path);
    } catch (error) {
      if (!isMissing(error)) throw error;
      const path = await this.relocate(entry);
      if (path === undefined) throw new MessageGoneError(`message ${entry.unique} is no longer in the maildrop`);
      return action(path);
    }
  }

  read(index: number): Promise<Buffer> {
    const entry = this.entry(index);
    // A small file is read at once: the thread pool's round trip costs more than the read.
    const small = entry.size <= SYNC_READ_MAX_BYTES;
    return this.withFile(entry, async (path) => (small ? readFileSync(path) : readFile(path)));
  }

  async markSeen(index: number): Promise<void> {
    const entry = this.entry(index);
    await this.withFile(entry, async (path) => {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const inNew = path.startsWith(join(this.maildir, 'new') + '/');
      const { flags } = parseMaildirFilename(name);
      if (!inNew && flags.includes('S')) return;
      const target = join(this.maildir, 'cur', withFlags(entry.unique, `${flags}S`));
      await rename(path, target);
      entry.path = target;
    });
  }

  async remove(indices: readonly number[]): Promise<number> {
    let failed = 0;
    for (const index of indices) {
      try {
        await this.withFile(this.entry(index), (path) => unlink(path));
      } catch (error) {
        if (!(error instanceof MessageGoneError)) failed += 1;
      }
    }
    return failed;
  }

  close(): Promise<void> {
    return this.unlock();
  }
}

/** Messages up to this size are read synchronously by RETR and TOP. */
const SYNC_READ_MAX_BYTES = 256 * 1024;
/** stat() calls in flight at once when a maildrop is opened (the thread pool does them in parallel). */
const STAT_BATCH = 256;

async function scan(maildir: string): Promise<Entry[]> {
  const found = new Map<string, string>();
  for (const sub of ['new', 'cur'] as const) {
    for (const name of await listDir(join(maildir, sub))) {
      const unique = parseMaildirFilename(name).uniqueName;
      if (!found.has(unique)) found.set(unique, join(maildir, sub, name));
    }
  }
  const entries: Entry[] = [];
  const items = [...found];
  for (let start = 0; start < items.length; start += STAT_BATCH) {
    const batch = items.slice(start, start + STAT_BATCH);
    const stats = await Promise.all(
      batch.map(([, path]) =>
        stat(path).catch((error: unknown) => {
          if (isMissing(error)) return undefined;
          throw error;
        }),
      ),
    );
    batch.forEach(([unique, path], i) => {
      const info = stats[i];
      if (info?.isFile()) entries.push({ unique, uidl: uidlOf(unique), size: info.size, path });
    });
  }
  return entries.sort((a, b) => deliveryOrder(a.unique, b.unique));
}

/** Maildrops in the Maildir++ tree `<mailRoot>/<domain>/<local>/` (services/ENV.md). */
export function maildirMaildrops(mailRoot: string): MaildropStore {
  return {
    async open(account) {
      const maildir = await ensureMaildir(mailRoot, account.domain, account.local);
      const lock = await lockMaildrop(maildir);
      if (!lock) return 'locked';
      try {
        return new MaildirMaildrop(maildir, await scan(maildir), () => lock.release());
      } catch (error) {
        await lock.release();
        throw error;
      }
    },
  };
}
