/**
 * The POP3 maildrop: a view of the MRA store's INBOX (the same index, sizes and UIDs
 * that IMAP sees), fixed when the session starts (RFC 1939 §8: later deliveries wait
 * for the next session). Several sessions of one user may hold it at once, as Dovecot
 * allows; each sees the maildrop as it was at its own start, and a message another
 * session removed meanwhile is gone (`MessageGoneError`). With `lock` (MRA_POP3_LOCK),
 * RFC 1939's exclusive-access lock is taken as well.
 */
import { createHash } from 'node:crypto';
import type { Account } from '../../../shared/users.ts';
import { maildirPath } from '../../../shared/maildir/layout.ts';
import { MailStoreError, type MailboxHandle, type MailStore, type MessageRecord } from '../store/types.ts';
import { MAX_UIDL_LENGTH } from './limits.ts';
import { lockMaildrop, type MaildropLock } from './lock.ts';

export interface Maildrop {
  /** Messages fixed for the session, in UID (delivery) order; message-number n is index n - 1. */
  readonly count: number;
  /** Octets of every message together. */
  readonly octets: number;
  /** Octets of one message (with CRLF line ends, as RETR sends it before byte-stuffing). */
  size(index: number): number;
  /** RFC 1939 §7 unique-id, stable across sessions (the stored message's unique name). */
  uidl(index: number): string;
  read(index: number): Promise<Buffer>;
  /** Marks the messages RETR sent \Seen (as IMAP sees it: `S`, moved from new/ to cur/), at QUIT. */
  markSeen(indices: readonly number[]): Promise<void>;
  /** Removes the messages for good (RFC 1939 §6 UPDATE state); returns how many could not be removed. */
  remove(indices: readonly number[]): Promise<number>;
  /** Lets go of the INBOX (and the lock). */
  close(): Promise<void>;
}

export interface MaildropStore {
  /** Opens the account's maildrop; 'locked' when the exclusive lock is on and another session holds it. */
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

/** Sizes the store does not know yet (no `,S=` in the name) are read this many at a time at login. */
const SIZE_BATCH = 64;
/** The next message is read ahead only up to this size (one such buffer per session at most). */
const READ_AHEAD_MAX_OCTETS = 256 * 1024;

/** A message read before it was asked for: `message` is undefined when that read failed. */
interface ReadAhead {
  index: number;
  message: Promise<Buffer | undefined>;
}

class InboxMaildrop implements Maildrop {
  readonly count: number;
  readonly octets: number;
  private readonly records: readonly MessageRecord[];
  private readonly sizes: Float64Array;
  private readonly inbox: MailboxHandle;
  private readonly lock: MaildropLock | undefined;
  private closed = false;
  private ahead: ReadAhead | undefined;

  constructor(inbox: MailboxHandle, records: readonly MessageRecord[], sizes: Float64Array, lock: MaildropLock | undefined) {
    this.inbox = inbox;
    this.records = records;
    this.sizes = sizes;
    this.lock = lock;
    this.count = records.length;
    let octets = 0;
    for (const size of sizes) octets += size;
    this.octets = octets;
  }

  private uid(index: number): number {
    const record = this.records[index];
    if (!record) throw new RangeError(`no message ${index + 1}`);
    return record.uid;
  }

  size(index: number): number {
    return this.sizes[index] ?? 0;
  }

  uidl(index: number): string {
    return uidlOf(this.records[index]?.base ?? '');
  }

  /**
   * Clients RETR (or TOP) one message after another, each after the last reply is in
   * (poplib, Thunderbird, Outlook): the next message is read as soon as this reply has
   * gone, while the client takes it in and asks, so its RETR finds it in memory. It is
   * used only if the store still has it: a message another session removed meanwhile is
   * gone, as it would be without the read-ahead.
   */
  async read(index: number): Promise<Buffer> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const uid = this.uid(index);
    const early = ahead?.index === index ? await ahead.message : undefined;
    const message = early !== undefined && this.inbox.get(uid) !== undefined ? early : await this.readNow(index, uid);
    this.readAhead(index + 1);
    return message;
  }

  private async readNow(index: number, uid: number): Promise<Buffer> {
    try {
      return await this.inbox.read(uid);
    } catch (error) {
      if (error instanceof MailStoreError && error.code === 'NONEXISTENT') throw new MessageGoneError(`message ${index + 1} is no longer in the maildrop`, { cause: error });
      throw error;
    }
  }

  /** After this turn (the reply is written by then), reads message `index` if it is small. */
  private readAhead(index: number): void {
    const record = this.records[index];
    if (!record || (this.sizes[index] ?? 0) > READ_AHEAD_MAX_OCTETS) return;
    const message = new Promise<Buffer | undefined>((resolve) =>
      setImmediate(() => {
        if (this.closed) resolve(undefined);
        else this.inbox.read(record.uid).then(resolve, () => resolve(undefined));
      }),
    );
    this.ahead = { index, message };
  }

  async markSeen(indices: readonly number[]): Promise<void> {
    const uids = indices.map((index) => this.uid(index)).filter((uid) => {
      const record = this.inbox.get(uid);
      return record !== undefined && !record.flags.includes('\\Seen');
    });
    if (uids.length > 0) await this.inbox.setFlags(uids, 'add', ['\\Seen']);
  }

  async remove(indices: readonly number[]): Promise<number> {
    const uids = indices.map((index) => this.uid(index));
    try {
      await this.inbox.expunge(uids);
      return 0;
    } catch {
      // What is still there could not be removed; what another session removed is no failure.
      return uids.filter((uid) => this.inbox.get(uid) !== undefined).length;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ahead = undefined;
    try {
      await this.inbox.release();
    } finally {
      await this.lock?.release();
    }
  }
}

async function sizesOf(inbox: MailboxHandle, records: readonly MessageRecord[]): Promise<Float64Array> {
  const sizes = new Float64Array(records.length);
  const unknown: number[] = [];
  records.forEach((record, index) => {
    if (record.size === undefined) unknown.push(index);
    else sizes[index] = record.size;
  });
  for (let start = 0; start < unknown.length; start += SIZE_BATCH) {
    const batch = unknown.slice(start, start + SIZE_BATCH);
    const found = await Promise.all(batch.map((index) => inbox.size((records[index] as MessageRecord).uid).catch(() => 0)));
    batch.forEach((index, i) => (sizes[index] = found[i] ?? 0));
  }
  return sizes;
}

/** Maildrops as views of the store's INBOX; `mailRoot` is where the lock files go. */
export function storeMaildrops(store: MailStore, options: { mailRoot: string; lock: boolean }): MaildropStore {
  return {
    async open(account) {
      const user = await store.forUser(account);
      const lock = options.lock ? await lockMaildrop(maildirPath(options.mailRoot, account.domain, account.local)) : undefined;
      if (options.lock && !lock) return 'locked';
      try {
        const inbox = await user.open('INBOX');
        try {
          // messages() is an immutable array: the session's list stays as it was at login.
          const records = inbox.messages();
          return new InboxMaildrop(inbox, records, await sizesOf(inbox, records), lock);
        } catch (error) {
          await inbox.release();
          throw error;
        }
      } catch (error) {
        await lock?.release();
        throw error;
      }
    },
  };
}
