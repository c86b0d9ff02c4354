/**
 * The durable queue on disk (MTA_QUEUE_DIR). One file per message, plus a state file once
 * a recipient's state has changed (formats in format.ts):
 *
 *   active/<queueId>.msg    envelope (meta + recipient states at enqueue) + message bytes
 *   active/<queueId>.state  every recipient's current state (supersedes the envelope's)
 *
 * Enqueue: incoming/<queueId>.msg is written with one writev and fsync'd, renamed into
 * active/, and active/ is fsync'd (2 fsyncs): after a crash a message is either wholly in
 * active/ or not there. A state change replaces the .state file atomically (tmp name,
 * fsync, rename, fsync of active/) before it resolves, so a delivered recipient is never
 * tried again. When every recipient is final the message's files are unlinked (.msg first,
 * then .state) and active/ fsync'd instead: a crash between the unlinks leaves a .state
 * without its .msg, which is deleted at start; a .msg never loses the .state that says a
 * recipient was delivered. The fsyncs of active/ are group-committed across messages
 * (DirectorySync): each caller still waits for an fsync that began after its own change.
 * At start, half-built files (incoming/, *.tmp) are discarded; anything else that is not
 * a spool file (such as a message directory of the layout before this one) is moved to
 * corrupt/, never loaded or deleted.
 *
 * The .msg files of finished messages are recycled rather than unlinked: renamed out of
 * active/ into free/ (the same removal for active/, fsync'd the same way), and once that
 * fsync is done, overwritten in place by a later enqueue (rewriteFileSynced) and renamed
 * into active/. free/ holds nothing of value: it is emptied at start. See durable.ts for
 * why (inode allocation on the lab's ext4).
 */
import { EventEmitter } from 'node:events';
import { renameSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../shared/log.ts';
import { DirectorySync, replaceFileDurably, rewriteFileSynced, syncDirectory, TMP_SUFFIX, unlinkIfPresent, writeNewFileSynced } from './durable.ts';
import { currentStates, encodeEnvelope, MESSAGE_SUFFIX, readEnvelope, readRange, STATE_SUFFIX } from './format.ts';
import {
  isQueueId,
  newQueueId,
  type EnqueueRequest,
  type MessageMeta,
  type Queue,
  type QueueEntry,
  type RecipientState,
} from './types.ts';

const SUBDIRS = ['incoming', 'active', 'trash', 'corrupt', 'free'] as const;
/**
 * Messages just enqueued keep their bytes in memory until the first delivery attempt reads
 * them (saving that read from disk), up to this many bytes in all; the disk copy is the
 * durable one either way.
 */
const FRESH_CACHE_BYTES = 16 * 1024 * 1024;
/** At most this many finished .msg files wait in free/ to be reused... */
const FREE_FILES_MAX = 256;
/** ...and only files of messages up to this size (a big one is unlinked, not kept). */
const FREE_FILE_MAX_BYTES = 256 * 1024;

export interface SpoolOptions {
  /** MTA_QUEUE_DIR */
  dir: string;
  logger: Logger;
  now?: () => number;
}

interface StoredMessage {
  meta: MessageMeta;
  recipients: RecipientState[];
  /** Where the message starts in its .msg file. */
  bodyOffset: number;
  /** Serializes the state-file writes of one message. */
  writes: Promise<unknown>;
  /** Every recipient is final and the files are gone from disk; only remove() is left. */
  finished: boolean;
  /** A .state file may exist (written, or found at start). */
  hasStateFile: boolean;
  /** The message bytes, until the first readMessage (see FRESH_CACHE_BYTES). */
  fresh?: Buffer;
}

function copyEntry(stored: StoredMessage): QueueEntry {
  return { ...stored.meta, recipients: stored.recipients.map((state) => ({ ...state })) };
}

export function isFinal(state: RecipientState): boolean {
  return state.status === 'delivered' || state.status === 'failed';
}

export class Spool implements Queue {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly events = new EventEmitter();
  private readonly activeSync: DirectorySync;
  private freshBytes = 0;
  /** Paths in free/ ready to be overwritten by the next enqueue. */
  private readonly freeFiles: string[] = [];
  private freeSeq = 0;

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.activeSync = new DirectorySync(this.path('active'));
  }

  /** Opens the spool: creates its directories, discards half-built messages, loads the rest. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.load();
    return spool;
  }

  private path(sub: (typeof SUBDIRS)[number], name?: string): string {
    return name === undefined ? join(this.dir, sub) : join(this.dir, sub, name);
  }

  private messagePath(queueId: string): string {
    return this.path('active', `${queueId}${MESSAGE_SUFFIX}`);
  }

  private statePath(queueId: string): string {
    return this.path('active', `${queueId}${STATE_SUFFIX}`);
  }

  private async load(): Promise<void> {
    for (const sub of SUBDIRS) await mkdir(this.path(sub), { recursive: true });
    await syncDirectory(this.dir);
    for (const name of await readdir(this.path('free'))) await rm(this.path('free', name), { force: true });
    for (const sub of ['incoming', 'trash'] as const) {
      for (const name of await readdir(this.path(sub))) {
        this.logger.warn({ event: 'queue.discard', queueId: name, where: sub }, 'discarding unfinished spool entry');
        await rm(join(this.path(sub), name), { recursive: true, force: true });
      }
    }
    const entries = await readdir(this.path('active'), { withFileTypes: true });
    const names = new Set(entries.map((entry) => entry.name));
    for (const name of [...names].sort()) {
      if (name.endsWith(TMP_SUFFIX)) {
        await unlink(this.path('active', name));
      } else if (name.endsWith(MESSAGE_SUFFIX)) {
        await this.loadMessage(name.slice(0, -MESSAGE_SUFFIX.length), names);
      } else if (name.endsWith(STATE_SUFFIX) && !names.has(`${name.slice(0, -STATE_SUFFIX.length)}${MESSAGE_SUFFIX}`)) {
        // The message was removed and a crash came before its state file went too.
        await unlink(this.path('active', name));
      } else if (!name.endsWith(STATE_SUFFIX)) {
        await this.moveToCorrupt([name], new Error('not a spool file'));
      }
    }
    await syncDirectory(this.path('active'));
    this.logger.info({ event: 'queue.loaded', messages: this.messages.size, dir: this.dir }, 'queue loaded');
  }

  private async loadMessage(id: string, names: Set<string>): Promise<void> {
    const stateName = `${id}${STATE_SUFFIX}`;
    try {
      if (!isQueueId(id)) throw new Error(`not a queue id: ${id}`);
      const envelope = await readEnvelope(this.messagePath(id));
      if (envelope.meta.queueId !== id) throw new Error('envelope names another queue id');
      const stateText = names.has(stateName) ? await readFile(this.statePath(id), 'utf8') : undefined;
      const recipients = currentStates(envelope, stateText);
      this.messages.set(id, { meta: envelope.meta, recipients, bodyOffset: envelope.bodyOffset, writes: Promise.resolve(), finished: false, hasStateFile: stateText !== undefined });
    } catch (error) {
      names.delete(stateName);
      await this.moveToCorrupt([`${id}${MESSAGE_SUFFIX}`, stateName], error);
    }
  }

  private async moveToCorrupt(names: string[], error: unknown): Promise<void> {
    this.logger.error({ event: 'queue.corrupt', queueId: names[0], err: error }, 'unreadable spool entry moved to corrupt/');
    const stamp = this.now();
    for (const name of names) {
      await rename(this.path('active', name), this.path('corrupt', `${name}.${stamp}`)).catch((failure: NodeJS.ErrnoException) => {
        if (failure.code !== 'ENOENT') throw failure;
      });
    }
  }

  /**
   * Writes the message file (one writev, one fsync) under a name outside active/ (a
   * recycled free/ file, else a new incoming/<id>.msg) and renames it into active/; the
   * caller fsyncs active/.
   */
  private async commitMessage(queueId: string, header: Buffer, message: Buffer): Promise<void> {
    const recycled = this.freeFiles.pop();
    if (recycled !== undefined) {
      try {
        await rewriteFileSynced(recycled, [header, message]);
        renameSync(recycled, this.messagePath(queueId));
        return;
      } catch (error) {
        // Whatever is wrong with that file, a new one is tried below.
        this.logger.warn({ event: 'queue.recycle-failed', queueId, err: error }, 'could not reuse a spool file');
        try {
          unlinkIfPresent(recycled);
        } catch {
          // left for the next start to empty free/
        }
      }
    }
    const building = this.path('incoming', `${queueId}${MESSAGE_SUFFIX}`);
    try {
      await writeNewFileSynced(building, [header, message]);
      renameSync(building, this.messagePath(queueId));
    } catch (error) {
      try {
        unlinkIfPresent(building);
      } catch {
        // the original error is the one to report
      }
      throw error;
    }
  }

  async enqueue(request: EnqueueRequest): Promise<{ queueId: string }> {
    const queueId = request.queueId ?? newQueueId(this.now());
    if (!isQueueId(queueId)) throw new Error(`invalid queue id ${JSON.stringify(queueId)}`);
    if (this.messages.has(queueId)) throw new Error(`queue id ${queueId} is already queued`);
    const rcptTo = [...new Set(request.rcptTo)];
    if (rcptTo.length === 0) throw new Error('a queued message needs at least one recipient');
    const now = this.now();
    const meta: MessageMeta = {
      queueId,
      mailFrom: request.mailFrom,
      source: request.source,
      clientAddress: request.clientAddress,
      queuedAt: now,
      size: request.message.length,
      ...(request.messageId === undefined ? {} : { messageId: request.messageId }),
      ...(request.authUser === undefined ? {} : { authUser: request.authUser }),
      ...(request.transactionKeys?.length ? { transactionKeys: request.transactionKeys } : {}),
    };
    const recipients: RecipientState[] = rcptTo.map((recipient) => ({
      recipient,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
    }));

    const header = encodeEnvelope({ meta, recipients });
    await this.commitMessage(queueId, header, request.message);
    await this.activeSync.sync();

    const stored: StoredMessage = { meta, recipients: recipients.map((state) => ({ ...state })), bodyOffset: header.length, writes: Promise.resolve(), finished: false, hasStateFile: false };
    if (this.freshBytes + meta.size <= FRESH_CACHE_BYTES) {
      stored.fresh = request.message;
      this.freshBytes += meta.size;
    }
    this.messages.set(queueId, stored);
    // The only log line of an accepted message until delivery (the listener does not log another).
    this.logger.info(
      {
        event: 'queue.enqueued',
        queueId,
        messageId: meta.messageId,
        ...(request.conn === undefined ? {} : { conn: request.conn }),
        from: meta.mailFrom,
        to: rcptTo,
        size: meta.size,
        source: meta.source,
        client: meta.clientAddress,
        ...(meta.authUser === undefined ? {} : { authUser: meta.authUser }),
      },
      'queued',
    );
    this.events.emit('enqueued', queueId);
    return { queueId };
  }

  /** Calls `listener` after each enqueue has been committed; returns the unsubscribe function. */
  onEnqueue(listener: (queueId: string) => void): () => void {
    this.events.on('enqueued', listener);
    return () => this.events.off('enqueued', listener);
  }

  list(): QueueEntry[] {
    return [...this.messages.values()].map(copyEntry);
  }

  /**
   * Every queued message's id and current recipient states, without the copies list()
   * makes: the delivery scheduler looks at the queue after each attempt, and copying a
   * backlog of thousands of entries each time was a hot spot. Read only.
   */
  *states(): IterableIterator<{ readonly queueId: string; readonly recipients: readonly Readonly<RecipientState>[] }> {
    for (const stored of this.messages.values()) yield { queueId: stored.meta.queueId, recipients: stored.recipients };
  }

  get(queueId: string): QueueEntry | undefined {
    const stored = this.messages.get(queueId);
    return stored === undefined ? undefined : copyEntry(stored);
  }

  has(queueId: string): boolean {
    return this.messages.has(queueId);
  }

  get size(): number {
    return this.messages.size;
  }

  async readMessage(queueId: string): Promise<Buffer> {
    const stored = this.messages.get(queueId);
    if (stored === undefined || stored.finished) throw new Error(`${queueId} is not queued`);
    const fresh = this.dropFresh(stored);
    if (fresh !== undefined) return fresh;
    return readRange(this.messagePath(queueId), stored.bodyOffset, stored.meta.size);
  }

  /**
   * Changes one recipient's state and makes it durable before resolving. Returns false
   * when the message is no longer queued (deleted meanwhile).
   */
  async updateRecipient(queueId: string, recipient: string, patch: Partial<RecipientState>): Promise<boolean> {
    const stored = this.messages.get(queueId);
    const index = stored?.recipients.findIndex((state) => state.recipient === recipient) ?? -1;
    const current = stored?.recipients[index];
    if (stored === undefined || current === undefined) return false;
    const next: RecipientState = { ...current, ...patch, recipient: current.recipient };
    stored.recipients[index] = next;
    const write = stored.writes.then(async () => {
      if (this.messages.get(queueId) !== stored) return false;
      if (stored.finished) return true;
      if (stored.recipients.every(isFinal)) {
        // Nothing is left to deliver: the message leaves the disk now (remove() follows in memory).
        await this.erase(stored);
        stored.finished = true;
        return true;
      }
      stored.hasStateFile = true;
      await replaceFileDurably(this.statePath(queueId), Buffer.from(JSON.stringify(stored.recipients)), this.activeSync);
      return true;
    });
    stored.writes = write.catch(() => undefined);
    return write;
  }

  /** Changes in-memory scheduling only (flush): not worth an fsync, lost harmlessly on restart. */
  reschedule(queueId: string, nextAttemptAt: number): boolean {
    const stored = this.messages.get(queueId);
    if (stored === undefined) return false;
    for (const state of stored.recipients) {
      if (!isFinal(state)) state.nextAttemptAt = nextAttemptAt;
    }
    return true;
  }

  private dropFresh(stored: StoredMessage): Buffer | undefined {
    const fresh = stored.fresh;
    if (fresh !== undefined) {
      this.freshBytes -= fresh.length;
      delete stored.fresh;
    }
    return fresh;
  }

  /**
   * Takes a message's files out of active/, .msg first (a lone .state is discarded at
   * start), then fsyncs active/. A small .msg goes to free/ for reuse, but only once that
   * fsync has made its removal from active/ durable: overwritten any earlier, a crash could
   * leave the old name in active/ with another message's bytes.
   */
  private async erase(stored: StoredMessage): Promise<void> {
    const queueId = stored.meta.queueId;
    this.dropFresh(stored);
    let recycled: string | undefined;
    if (this.freeFiles.length < FREE_FILES_MAX && stored.bodyOffset + stored.meta.size <= FREE_FILE_MAX_BYTES) {
      recycled = this.path('free', String((this.freeSeq += 1)));
      try {
        renameSync(this.messagePath(queueId), recycled);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        recycled = undefined;
      }
    } else {
      unlinkIfPresent(this.messagePath(queueId));
    }
    if (stored.hasStateFile) unlinkIfPresent(this.statePath(queueId));
    await this.activeSync.sync();
    if (recycled !== undefined) this.freeFiles.push(recycled);
  }

  /** Removes a message (finished, or deleted by the admin). */
  async remove(queueId: string, reason: 'done' | 'deleted'): Promise<boolean> {
    const stored = this.messages.get(queueId);
    if (stored === undefined) return false;
    this.messages.delete(queueId);
    await stored.writes;
    this.dropFresh(stored);
    if (!stored.finished) await this.erase(stored);
    this.logger.info({ event: `queue.${reason}`, queueId, messageId: stored.meta.messageId }, `removed from queue (${reason})`);
    return true;
  }
}
