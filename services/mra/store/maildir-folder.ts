/**
 * One Maildir folder (`cur/ new/ tmp/`) as an IMAP mailbox: the in-memory index of its
 * messages, kept in step with the files by a readdir of `new/` and `cur/` whenever
 * something may have changed (fs.watch, or before a reply). A message is known by its
 * base name, so renames by others (POP3 marking `:2,S`, new → cur) keep its UID; files
 * that appear get the next UIDs, files that disappear are expunged.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { IndexWriter, newIndex, readIndex, readKeywords, writeKeywords, type DirMtimes, type IndexEntry, type IndexHead, type IndexRow } from './index-file.ts';
import { Entry, EntryList, InfoFlags } from './folder-entries.ts';
import { compareListing, dirMtimes, FolderWatcher, listFiles, readHeaderBlock, readHeaderBlockSync, renameAll, toCrlf } from './folder-files.ts';
import { linkMessage, storeMessage } from '../../../shared/maildir/deliver.ts';
import { flagsToInfo } from '../../../shared/maildir/flags.ts';
import { INFO_SEPARATOR, secondsInName, sizeInName, sortByDelivery, uniqueName, wireSizeInName, withInfo } from '../../../shared/maildir/names.ts';
import { MailStoreError, type NewMessage, type FlagChange, type FlagMode, type MailboxChange, type MailboxHandle, type MessageRecord } from './types.ts';

/** New files at once above which sizes are left to be read on demand (a bulk import). */
const EAGER_STAT_LIMIT = 1000;
/** Directory mtimes younger than this are not trusted to show every change (coarse timestamps). */
const MTIME_SLACK_MS = 2000;
/**
 * Messages up to this size are read synchronously (POP3 RETR, IMAP BODY[]): open, fstat,
 * read and close through the thread pool cost more than the read itself.
 */
const SYNC_READ_MAX_BYTES = 256 * 1024;

export class MaildirFolder implements MailboxHandle {
  readonly name: string;
  readonly dir: string;
  readonly uidValidity: number;
  private uidNextValue: number;
  private highest: number;
  /** The folder's keywords (the `dovecot-keywords` file); flagsToInfo appends new ones, others only read. */
  readonly keywords: string[];
  private readonly entries = new EntryList();
  private readonly flags: InfoFlags;
  private readonly listeners = new Set<(change: MailboxChange) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private recentFloor: number;
  private readonly index: IndexWriter;
  private watcher: FolderWatcher | undefined;
  private readonly hooks: FolderHooks;
  private readonly onError: (error: unknown) => void;

  private constructor(dir: string, name: string, index: IndexHead & { rows: readonly IndexRow[] }, keywords: string[], hooks: FolderHooks) {
    this.dir = dir;
    this.name = name;
    this.uidValidity = index.uidValidity;
    this.uidNextValue = index.uidNext;
    this.highest = index.highestModseq;
    this.keywords = keywords;
    this.flags = new InfoFlags(keywords);
    this.hooks = hooks;
    this.onError = hooks.onError;
    let lastUid = 0;
    for (const [uid, modseq, size, internalDateMs, sub, file] of index.rows) {
      // A damaged index: UIDs must ascend (lookups are binary searches) and stay below UIDNEXT.
      if (uid <= lastUid || uid >= this.uidNextValue) continue;
      lastUid = uid;
      const colon = file.indexOf(INFO_SEPARATOR);
      const info = colon === -1 ? '' : file.slice(colon + INFO_SEPARATOR.length);
      this.entries.put(new Entry(uid, modseq, size ?? undefined, internalDateMs, sub === 'n' ? 'new' : 'cur', file, this.flags.of(info)));
    }
    this.recentFloor = this.uidNextValue - 1;
    this.scanned = index.dirMtimes;
    this.index = new IndexWriter(dir, () => this.snapshot(), hooks.onError);
  }

  /** Reads the index and the directories; writes the index when anything was new. */
  static async load(dir: string, name: string, hooks: FolderHooks): Promise<MaildirFolder> {
    const index = (await readIndex(dir)) ?? newIndex();
    const folder = new MaildirFolder(dir, name, index, await readKeywords(dir), hooks);
    await folder.sync();
    if (index.rows.length === 0 && folder.entries.length === 0) {
      folder.index.markDirty();
      await folder.flushIndex();
    }
    return folder;
  }

  uidNext(): number {
    return this.uidNextValue;
  }

  highestModseq(): number {
    return this.highest;
  }

  messages(): readonly MessageRecord[] {
    return this.entries.all();
  }

  get(uid: number): MessageRecord | undefined {
    return this.entries.get(uid);
  }

  claimRecent(): ReadonlySet<number> {
    const recent = new Set<number>();
    for (const entry of this.messages()) if (entry.uid > this.recentFloor) recent.add(entry.uid);
    this.recentFloor = this.uidNextValue - 1;
    return recent;
  }

  /** The messages no session has claimed as \Recent yet, left unclaimed (STATUS RECENT, EXAMINE). */
  peekRecent(): ReadonlySet<number> {
    const recent = new Set<number>();
    for (const entry of this.messages()) if (entry.uid > this.recentFloor) recent.add(entry.uid);
    return recent;
  }

  onChange(listener: (change: MailboxChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs mutations one at a time, so a readdir never races a rename of ours. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  sync(): Promise<void> {
    return this.exclusive(() => this.rescan());
  }

  /** Directory mtimes of the last full listing, when they can be trusted (see rescan). */
  private scanned: DirMtimes | undefined;

  private async rescan(): Promise<void> {
    if (this.gone) return;
    const before = await dirMtimes(this.dir);
    if (this.scanned && before && before.new === this.scanned.new && before.cur === this.scanned.cur) return;
    const started = Date.now();
    let lists = await listFiles(this.dir);
    let { moved, fresh, missing } = compareListing(lists, this.entries.all());
    // A file renamed between our two readdirs is in neither list; look once more before expunging.
    if (missing.length > 0) {
      lists = [...lists, ...(await listFiles(this.dir))];
      ({ moved, fresh, missing } = compareListing(lists, this.entries.all(), true));
    }
    const after = await dirMtimes(this.dir);
    // Trusted only if nothing moved during the listing and the mtimes are clearly in the
    // past, so a change within the same timestamp tick cannot hide behind them.
    const stable = before && after && before.new === after.new && before.cur === after.cur && Math.max(after.new, after.cur) < started - MTIME_SLACK_MS;
    const scanned = stable ? after : undefined;
    if (scanned?.new !== this.scanned?.new || scanned?.cur !== this.scanned?.cur) this.index.schedule();
    this.scanned = scanned;
    const change: { added: number[]; expunged: number[]; flagged: number[] } = { added: [], expunged: [], flagged: [] };
    for (const [entry, listed] of moved) {
      const current = this.entries.get(entry.uid);
      if (!current || (current.file === listed.file && current.sub === listed.sub)) continue;
      const flagsChanged = current.info !== listed.info;
      const modseq = flagsChanged ? ++this.highest : current.modseq;
      this.entries.put(current.with({ sub: listed.sub, file: listed.file, flags: this.flags.of(listed.info), modseq }));
      if (flagsChanged) change.flagged.push(current.uid);
    }
    if (missing.length > 0) {
      this.entries.remove(new Set(missing.map((entry) => entry.uid)));
      change.expunged.push(...missing.map((entry) => entry.uid));
    }
    if (fresh.length > 0) {
      // In delivery order (the MDA's names, as POP3 sorts them), so UIDs follow arrival.
      fresh = sortByDelivery(fresh, ([base]) => base);
      const eager = fresh.length <= EAGER_STAT_LIMIT;
      for (const [base, listed] of fresh) {
        let size = wireSizeInName(base) ?? sizeInName(base);
        const seconds = secondsInName(base);
        let dateMs = seconds === undefined ? undefined : seconds * 1000;
        if (eager || dateMs === undefined) {
          const info = await stat(join(this.dir, listed.sub, listed.file)).catch(() => undefined);
          if (!info) continue;
          dateMs ??= info.mtimeMs;
          if (size === undefined && eager) size = (await this.readPath(join(this.dir, listed.sub, listed.file))).length;
        }
        const uid = this.uidNextValue++;
        this.entries.put(new Entry(uid, ++this.highest, size, dateMs, listed.sub, listed.file, this.flags.of(listed.info)));
        change.added.push(uid);
      }
      this.index.markDirty();
      await this.flushIndex();
    } else if (change.expunged.length > 0 || change.flagged.length > 0) {
      this.index.schedule();
    }
    this.emit(change);
  }

  private emit(change: MailboxChange): void {
    if (change.added.length + change.expunged.length + change.flagged.length === 0) return;
    for (const listener of this.listeners) listener(change);
  }

  private pathOf(entry: Entry): string {
    return join(this.dir, entry.sub, entry.file);
  }

  private async readPath(path: string): Promise<Buffer> {
    return toCrlf(await readFile(path));
  }

  /** Reads a message's file; when another process renamed it meanwhile, looks again (twice). */
  private async fromFile<T>(uid: number, readEntry: (path: string, entry: Entry) => T | Promise<T>): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const entry = this.entries.get(uid);
      if (!entry) break;
      try {
        return await readEntry(this.pathOf(entry), entry);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await this.sync();
      }
    }
    throw new MailStoreError('NONEXISTENT', `message UID ${uid} is gone`);
  }

  read(uid: number): Promise<Buffer> {
    return this.fromFile(uid, (path, entry) =>
      entry.size !== undefined && entry.size <= SYNC_READ_MAX_BYTES ? toCrlf(readFileSync(path)) : this.readPath(path),
    );
  }

  readHeader(uid: number): Promise<Buffer> {
    return this.fromFile(uid, (path, entry) => (entry.size !== undefined && entry.size <= SYNC_READ_MAX_BYTES ? readHeaderBlockSync(path) : readHeaderBlock(path)));
  }

  async size(uid: number): Promise<number> {
    const entry = this.entries.get(uid);
    if (entry?.size !== undefined) return entry.size;
    const size = (await this.read(uid)).length;
    const current = this.entries.get(uid);
    if (current) {
      this.entries.put(current.with({ size }));
      this.index.schedule();
    }
    return size;
  }

  setFlags(uids: readonly number[], mode: FlagMode, flags: readonly string[], unchangedSince?: number): Promise<{ changed: FlagChange[]; modified: number[] }> {
    return this.exclusive(async () => {
      const changed: FlagChange[] = [];
      const modified: number[] = [];
      const keywordCount = this.keywords.length;
      const lower = new Set(flags.map((flag) => flag.toLowerCase()));
      const moves: Array<{ entry: Entry; info: string; file: string }> = [];
      for (const uid of uids) {
        const entry = this.entries.get(uid);
        if (!entry) continue;
        if (unchangedSince !== undefined && entry.modseq > unchangedSince) {
          modified.push(uid);
          continue;
        }
        const next =
          mode === 'set' ? [...flags] : mode === 'add' ? [...entry.flags, ...flags] : entry.flags.filter((flag) => !lower.has(flag.toLowerCase()));
        const info = flagsToInfo(next, this.keywords, entry.info);
        if (info !== entry.info || entry.sub !== 'cur') moves.push({ entry, info, file: withInfo(entry.base, info) });
      }
      // Several renames in flight (a STORE 1:* or a POP3 QUIT marking thousands \Seen); a file gone meanwhile is skipped.
      const outcomes = await renameAll(moves.map(({ entry, file }) => [this.pathOf(entry), join(this.dir, 'cur', file)]));
      let failure: Error | undefined;
      for (const [i, { entry, info, file }] of moves.entries()) {
        const outcome = outcomes[i];
        if (outcome !== 'done') {
          if (outcome !== 'gone') failure ??= outcome;
          continue;
        }
        const modseq = ++this.highest;
        this.entries.put(entry.with({ sub: 'cur', file, flags: this.flags.of(info), modseq }));
        changed.push({ uid: entry.uid, flags: this.flags.of(info), modseq });
      }
      if (this.keywords.length !== keywordCount) await writeKeywords(this.dir, this.keywords);
      if (changed.length > 0) this.index.schedule();
      this.emit({ added: [], expunged: [], flagged: changed.map((item) => item.uid) });
      if (failure) throw failure;
      return { changed, modified };
    });
  }

  expunge(uids: readonly number[]): Promise<number[]> {
    return this.exclusive(async () => {
      const gone = new Set<number>();
      try {
        for (const uid of uids) {
          const entry = this.entries.get(uid);
          if (!entry || gone.has(uid)) continue;
          await unlink(this.pathOf(entry)).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
          });
          gone.add(uid);
        }
      } finally {
        // What was unlinked is gone, even if a later unlink failed.
        if (gone.size > 0) this.entries.remove(gone);
      }
      const removed = [...gone];
      if (removed.length > 0) {
        this.highest += 1;
        this.index.schedule();
      }
      this.emit({ added: [], expunged: removed, flagged: [] });
      return removed;
    });
  }

  /** Writes (APPEND) or links (COPY) messages into `cur/` and gives them UIDs at once. */
  add(messages: readonly NewMessage[]): Promise<number[]> {
    return this.exclusive(async () => {
      if (this.gone) throw new MailStoreError('NONEXISTENT', `mailbox ${this.name} no longer exists`);
      const uids: number[] = [];
      const keywordCount = this.keywords.length;
      for (const message of messages) {
        const info = flagsToInfo(message.flags, this.keywords);
        let file: string;
        if (message.content) {
          file = (await storeMessage({ dir: this.dir, message: message.content, date: message.internalDate, info })).file;
        } else if (message.source !== undefined) {
          file = await linkMessage(message.source, this.dir, uniqueName({ now: message.internalDate, size: message.size }), info);
        } else {
          continue;
        }
        const uid = this.uidNextValue++;
        this.entries.put(new Entry(uid, ++this.highest, message.size, message.internalDate.getTime(), 'cur', file, this.flags.of(info)));
        uids.push(uid);
      }
      if (this.keywords.length !== keywordCount) await writeKeywords(this.dir, this.keywords);
      this.index.markDirty();
      await this.flushIndex();
      this.emit({ added: uids, expunged: [], flagged: [] });
      return uids;
    });
  }

  /** Source file of a message, for COPY by hard link. */
  async sourceOf(uid: number): Promise<{ path: string; record: MessageRecord } | undefined> {
    const entry = this.entries.get(uid);
    if (!entry) return undefined;
    await this.size(uid);
    const current = this.entries.get(uid);
    return current ? { path: this.pathOf(current), record: current } : undefined;
  }

  copyTo(uids: readonly number[], target: string): Promise<{ uidValidity: number; uids: number[] }> {
    return this.hooks.copy(this, uids, target);
  }

  /** Writes the index now if it is behind memory (UID assignments must be on disk before replies). */
  flushIndex(): Promise<void> {
    return this.index.flush();
  }

  private snapshot(): { head: IndexHead; entries: readonly IndexEntry[] } {
    // Entries carry every index field already: written as they are, without copies. The
    // array handed out by messages() never changes, so a slow write sees one moment.
    const entries = this.messages() as readonly Entry[];
    return { head: { uidValidity: this.uidValidity, uidNext: this.uidNextValue, highestModseq: this.highest, dirMtimes: this.scanned }, entries };
  }

  /** Starts watching `new/` and `cur/` for files written or renamed by other processes. */
  startWatching(): void {
    this.watcher ??= new FolderWatcher(this.dir, () => this.sync(), this.onError);
  }

  async stopWatching(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    await this.exclusive(() => this.flushIndex());
  }

  /** Set once the directory was deleted or renamed away while sessions had it open. */
  private gone = false;

  /**
   * The folder was deleted or renamed by a session while others have it selected: every
   * message is expunged for them (reported at their next command that allows it), and the
   * handle stops reading and writing its old directory, which may be reused by a new folder.
   */
  vanish(): Promise<void> {
    return this.exclusive(async () => {
      // What memory knows goes with the directory first (a RENAME keeps UIDs and modseqs).
      await this.index.flush().catch(this.onError);
      this.gone = true;
      this.watcher?.close();
      this.watcher = undefined;
      this.index.stop();
      const expunged = this.entries.clear();
      this.emit({ added: [], expunged, flagged: [] });
    });
  }

  release(): Promise<void> {
    return this.hooks.onRelease(this);
  }
}

export interface FolderHooks {
  onRelease(folder: MaildirFolder): Promise<void>;
  copy(from: MaildirFolder, uids: readonly number[], target: string): Promise<{ uidValidity: number; uids: number[] }>;
  onError(error: unknown): void;
}
