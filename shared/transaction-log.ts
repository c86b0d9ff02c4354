/**
 * A durable memory of the transactions a hop has already taken (issue 15: nothing
 * delivered twice). When a sender's `250` is lost in a crash, the sender sends the same
 * transaction again; the receiving MTA or MDA looks its key up here and answers with the
 * reply it gave the first time instead of storing the message twice.
 *
 * Keys are what a lab sender keeps across its own restart: its host name and queue id
 * (from the Received field it wrote when it queued the message) and the recipient
 * (services/mta/smtp/resend.ts and the MDA build them). The store is an append-only
 * file of JSON lines, fsync'd before the reply that depends on it (appends that arrive
 * together share one fsync), read back at start, with entries older than `windowMs`
 * dropped and the file rewritten when it is mostly expired. It is bounded: past
 * `maxEntries` the oldest entries are forgotten first.
 */
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface Remembered {
  /** Epoch ms when the transaction was taken. */
  at: number;
  /** The reply text given the first time (without the code), to answer a resend with. */
  reply: string;
  /** What the owner needs to finish a transaction a crash interrupted (the MDA's pending file). */
  pending?: { from: string; to: string };
}

export interface TransactionLogOptions {
  path: string;
  /** How long a key is kept: longer than the longest a sender keeps retrying. */
  windowMs: number;
  /** At most this many keys are kept; the oldest go first. */
  maxEntries: number;
  now?: () => number;
}

interface Line {
  k: string;
  t: number;
  r: string;
  p?: { from: string; to: string };
}

/** The file is rewritten when it holds this many times more lines than live entries. */
const COMPACT_RATIO = 2;
/** …and at least this many lines (a small file is never worth rewriting). */
const COMPACT_MIN_LINES = 10_000;

export class TransactionLog {
  private readonly entries = new Map<string, Remembered>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private handle: FileHandle | undefined;
  private closed = false;
  private lines = 0;
  private pending: { text: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;

  private readonly options: TransactionLogOptions;

  private constructor(options: TransactionLogOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  static async open(options: TransactionLogOptions): Promise<TransactionLog> {
    const log = new TransactionLog(options);
    await log.load();
    return log;
  }

  /** Live keys. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): Remembered | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.at < this.now() - this.options.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Every live entry that still names a pending step (for recovery at start). */
  pendingEntries(): [string, Remembered][] {
    return [...this.entries].filter(([, entry]) => entry.pending !== undefined);
  }

  /**
   * Records the keys durably: resolves once they are fsync'd, and only then are they
   * found by get() (a failed write, a full disk, leaves nothing behind in memory).
   */
  async remember(items: readonly { key: string; reply: string; pending?: { from: string; to: string } }[]): Promise<void> {
    if (items.length === 0) return;
    const at = this.now();
    let text = '';
    for (const item of items) {
      const line: Line = { k: item.key, t: at, r: item.reply, ...(item.pending ? { p: item.pending } : {}) };
      text += `${JSON.stringify(line)}\n`;
    }
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ text, resolve, reject });
      this.flushing ??= this.flush();
    });
    for (const item of items) this.set(item.key, { at, reply: item.reply, ...(item.pending ? { pending: item.pending } : {}) });
  }

  /**
   * Runs `work` while no other work on any of `keys` runs: a resend that arrives while
   * the first copy is still being stored waits for it, then finds its key.
   */
  async exclusive<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    for (;;) {
      const busy = keys.map((key) => this.inFlight.get(key)).filter((promise) => promise !== undefined);
      if (busy.length === 0) break;
      await Promise.allSettled(busy);
    }
    const run = work();
    for (const key of keys) this.inFlight.set(key, run);
    try {
      return await run;
    } finally {
      for (const key of keys) if (this.inFlight.get(key) === run) this.inFlight.delete(key);
    }
  }

  async close(): Promise<void> {
    await this.flushing;
    this.closed = true;
    await this.handle?.close();
    this.handle = undefined;
  }

  private set(key: string, entry: Remembered): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  private async load(): Promise<void> {
    const cutoff = this.now() - this.options.windowMs;
    let text = '';
    try {
      const reader = await open(this.options.path, 'r+');
      try {
        const bytes = await reader.readFile();
        const end = bytes.lastIndexOf(0x0a) + 1;
        // A line torn by a crash (its reply was never given) is cut off, so the next append starts a line.
        if (end < bytes.length) await reader.truncate(end);
        text = bytes.subarray(0, end).toString('utf8');
      } finally {
        await reader.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      this.lines += 1;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // not one of ours: skipped, never fatal
      }
      if (typeof line.k !== 'string' || typeof line.t !== 'number' || typeof line.r !== 'string' || line.t < cutoff) continue;
      this.set(line.k, { at: line.t, reply: line.r, ...(line.p ? { pending: line.p } : {}) });
    }
    if (this.lines >= COMPACT_MIN_LINES && this.lines > COMPACT_RATIO * this.entries.size) await this.rewrite();
  }

  /** The file (and its folder) is made at the first append: a hop that never sees a lab sender writes nothing. */
  private async appendHandle(): Promise<FileHandle> {
    if (this.closed) throw new Error(`transaction log ${this.options.path} is closed`);
    if (!this.handle) {
      await mkdir(dirname(this.options.path), { recursive: true });
      this.handle = await open(this.options.path, 'a', 0o600);
      await syncDirectoryOf(this.options.path);
    }
    return this.handle;
  }

  /** Writes the live entries to a new file and renames it over the log. */
  private async rewrite(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const tmp = `${this.options.path}.compact`;
    const writer = await open(tmp, 'w', 0o600);
    try {
      let text = '';
      for (const [key, entry] of this.entries) {
        text += `${JSON.stringify({ k: key, t: entry.at, r: entry.reply, ...(entry.pending ? { p: entry.pending } : {}) } satisfies Line)}\n`;
        if (text.length > 1 << 20) {
          await writer.write(text);
          text = '';
        }
      }
      await writer.write(text);
      await writer.sync();
    } finally {
      await writer.close();
    }
    await rename(tmp, this.options.path);
    await syncDirectoryOf(this.options.path);
    this.lines = this.entries.size;
  }

  /** One write and one fsync for every append waiting; loops while more arrive. */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          const handle = await this.appendHandle();
          await handle.write(batch.map((item) => item.text).join(''));
          await handle.datasync();
          this.lines += batch.length;
          for (const item of batch) item.resolve();
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
        if (this.lines >= COMPACT_MIN_LINES && this.lines > COMPACT_RATIO * this.entries.size) await this.rewrite();
      }
    } finally {
      this.flushing = undefined;
    }
  }
}

/** fsync of the directory that holds `path`, so a new or renamed file survives a crash. */
async function syncDirectoryOf(path: string): Promise<void> {
  const handle = await open(dirname(path), 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
