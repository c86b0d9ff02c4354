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
import { ensureMaildir } from '../../../shared/maildir/layout.ts';
import { parseName, sizeInName, sortByDelivery, withInfo } from '../../../shared/maildir/names.ts';
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

/** One message of the session's list; small, as a maildrop may hold 100k of them. */
class Entry implements MaildropMessage {
  readonly unique: string;
  /** Octets; set once, from the name or (when the name has none) a stat at open. */
  size: number;
  /** Where the file is now; updated when we rename it or find it renamed by someone else. */
  sub: 'new' | 'cur';
  name: string;

  constructor(unique: string, size: number, sub: 'new' | 'cur', name: string) {
    this.unique = unique;
    this.size = size;
    this.sub = sub;
    this.name = name;
  }

  get uidl(): string {
    return uidlOf(this.unique);
  }
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
  private readonly entries: readonly Entry[];
  private readonly maildir: string;
  private readonly unlock: () => Promise<void>;

  constructor(maildir: string, entries: readonly Entry[], unlock: () => Promise<void>) {
    this.maildir = maildir;
    this.entries = entries;
    this.messages = entries;
    this.unlock = unlock;
  }

  private pathOf(entry: Entry): string {
    return join(this.maildir, entry.sub, entry.name);
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
        if (parseName(name).unique === entry.unique) {
          entry.sub = sub;
          entry.name = name;
          return this.pathOf(entry);
        }
      }
    }
    return undefined;
  }

  private async withFile<T>(entry: Entry, action: (path: string) => Promise<T>): Promise<T> {
    try {
      return await action(this.pathOf(entry));
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
      const { info: flags } = parseName(entry.name);
      if (entry.sub === 'cur' && flags.includes('S')) return;
      const name = withInfo(entry.unique, `${flags}S`);
      await rename(path, join(this.maildir, 'cur', name));
      entry.sub = 'cur';
      entry.name = name;
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
  // By unique name: a message seen in both new/ and cur/ (renamed between the listings) counts once.
  const found = new Map<string, Entry>();
  // The size is in the name when the deliverer wrote `,S=` (our MDA, Dovecot); else stat.
  const unsized: Entry[] = [];
  for (const sub of ['new', 'cur'] as const) {
    for (const name of await listDir(join(maildir, sub))) {
      const colon = name.indexOf(':');
      const unique = colon === -1 ? name : name.slice(0, colon);
      if (found.has(unique)) continue;
      const size = sizeInName(unique);
      const entry = new Entry(unique, size ?? -1, sub, name);
      found.set(unique, entry);
      if (size === undefined) unsized.push(entry);
    }
  }
  for (let start = 0; start < unsized.length; start += STAT_BATCH) {
    const batch = unsized.slice(start, start + STAT_BATCH);
    const stats = await Promise.all(
      batch.map((entry) =>
        stat(join(maildir, entry.sub, entry.name)).catch((error: unknown) => {
          if (isMissing(error)) return undefined;
          throw error;
        }),
      ),
    );
    batch.forEach((entry, i) => {
      const info = stats[i];
      if (info?.isFile()) entry.size = info.size;
      else found.delete(entry.unique);
    });
  }
  return sortByDelivery([...found.values()], (entry) => entry.unique);
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
