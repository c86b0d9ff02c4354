/**
 * The durable queue on disk (MTA_QUEUE_DIR). One directory per message:
 *
 *   active/<queueId>/message.eml   the message as it will be delivered
 *   active/<queueId>/meta.json     envelope sender, Message-ID, source, time queued
 *   active/<queueId>/rcpt-<n>.json one state file per recipient (status, attempts, …)
 *
 * A message is built in incoming/<queueId>/ (every file fsync'd, then the directory),
 * and committed by one rename into active/ followed by an fsync of active/: after a crash
 * a message is either wholly in active/ or not there at all. Half-built messages in
 * incoming/ are discarded at start. A recipient's state file is replaced atomically
 * (tmp name, fsync, rename, fsync) right after each delivery result, so a delivered
 * recipient is never tried again. A finished or deleted message is renamed into trash/
 * before it is removed, so it never reappears half-deleted.
 */
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../shared/log.ts';
import { replaceFileDurably, syncDirectory, TMP_SUFFIX, writeNewFileSynced } from './durable.ts';
import {
  isQueueId,
  newQueueId,
  type EnqueueRequest,
  type MessageMeta,
  type Queue,
  type QueueEntry,
  type RecipientState,
} from './types.ts';

const MESSAGE_FILE = 'message.eml';
const META_FILE = 'meta.json';
const RCPT_PREFIX = 'rcpt-';
const RCPT_SUFFIX = '.json';
const SUBDIRS = ['incoming', 'active', 'trash', 'corrupt'] as const;

export interface SpoolOptions {
  /** MTA_QUEUE_DIR */
  dir: string;
  logger: Logger;
  now?: () => number;
}

interface StoredMessage {
  meta: MessageMeta;
  recipients: RecipientState[];
  /** Serializes the state-file writes of one message. */
  writes: Promise<unknown>;
}

function rcptFile(index: number): string {
  return `${RCPT_PREFIX}${String(index).padStart(4, '0')}${RCPT_SUFFIX}`;
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

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
  }

  /** Opens the spool: creates its directories, discards half-built messages, loads the rest. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.load();
    return spool;
  }

  private path(sub: (typeof SUBDIRS)[number], id?: string): string {
    return id === undefined ? join(this.dir, sub) : join(this.dir, sub, id);
  }

  private async load(): Promise<void> {
    for (const sub of SUBDIRS) await mkdir(this.path(sub), { recursive: true });
    await syncDirectory(this.dir);
    for (const sub of ['incoming', 'trash'] as const) {
      for (const name of await readdir(this.path(sub))) {
        this.logger.warn({ event: 'queue.discard', queueId: name, where: sub }, 'discarding unfinished spool entry');
        await rm(join(this.path(sub), name), { recursive: true, force: true });
      }
    }
    for (const id of (await readdir(this.path('active'))).sort()) {
      try {
        const stored = await this.loadMessage(id);
        this.messages.set(id, stored);
      } catch (error) {
        this.logger.error({ event: 'queue.corrupt', queueId: id, err: error }, 'unreadable spool entry moved to corrupt/');
        await rename(this.path('active', id), this.path('corrupt', `${id}.${this.now()}`));
      }
    }
    this.logger.info({ event: 'queue.loaded', messages: this.messages.size, dir: this.dir }, 'queue loaded');
  }

  private async loadMessage(id: string): Promise<StoredMessage> {
    if (!isQueueId(id)) throw new Error(`not a queue id: ${id}`);
    const dir = this.path('active', id);
    const meta = JSON.parse(await readFile(join(dir, META_FILE), 'utf8')) as MessageMeta;
    if (meta.queueId !== id) throw new Error('meta.json names another queue id');
    const size = (await stat(join(dir, MESSAGE_FILE))).size;
    if (size !== meta.size) throw new Error(`message.eml has ${size} bytes, meta.json says ${meta.size}`);
    const names = (await readdir(dir)).sort();
    const recipients: RecipientState[] = [];
    for (const name of names) {
      if (name.endsWith(TMP_SUFFIX)) {
        await unlink(join(dir, name));
      } else if (name.startsWith(RCPT_PREFIX) && name.endsWith(RCPT_SUFFIX)) {
        recipients.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as RecipientState);
      }
    }
    if (recipients.length === 0) throw new Error('no recipient state files');
    return { meta, recipients, writes: Promise.resolve() };
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
    };
    const recipients: RecipientState[] = rcptTo.map((recipient) => ({
      recipient,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
    }));

    const building = this.path('incoming', queueId);
    await mkdir(building);
    try {
      await writeNewFileSynced(join(building, MESSAGE_FILE), request.message);
      await writeNewFileSynced(join(building, META_FILE), JSON.stringify(meta));
      for (const [index, state] of recipients.entries()) {
        await writeNewFileSynced(join(building, rcptFile(index)), JSON.stringify(state));
      }
      await syncDirectory(building);
      await rename(building, this.path('active', queueId));
      await syncDirectory(this.path('active'));
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      throw error;
    }

    this.messages.set(queueId, { meta, recipients, writes: Promise.resolve() });
    this.logger.info(
      {
        event: 'queue.enqueued',
        queueId,
        messageId: meta.messageId,
        from: meta.mailFrom,
        to: rcptTo,
        size: meta.size,
        source: meta.source,
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
    if (!this.messages.has(queueId)) throw new Error(`${queueId} is not queued`);
    return readFile(join(this.path('active', queueId), MESSAGE_FILE));
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
      await replaceFileDurably(join(this.path('active', queueId), rcptFile(index)), JSON.stringify(next));
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

  /** Removes a message (finished, or deleted by the admin). */
  async remove(queueId: string, reason: 'done' | 'deleted'): Promise<boolean> {
    const stored = this.messages.get(queueId);
    if (stored === undefined) return false;
    this.messages.delete(queueId);
    await stored.writes;
    await rename(this.path('active', queueId), this.path('trash', queueId));
    await syncDirectory(this.path('active'));
    await rm(this.path('trash', queueId), { recursive: true, force: true });
    this.logger.info({ event: `queue.${reason}`, queueId, messageId: stored.meta.messageId }, `removed from queue (${reason})`);
    return true;
  }
}
