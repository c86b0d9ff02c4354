/**
 * The memory side of a Maildir folder: one immutable record per message (Entry), the
 * records in UID order (EntryList, found by binary search: no per-message map), and the
 * flags of an info string, shared between messages (InfoFlags).
 */
import { infoToFlags } from '../../../shared/maildir/flags.ts';
import { INFO_SEPARATOR } from '../../../shared/maildir/names.ts';
import type { Known, Sub } from './folder-files.ts';
import type { IndexEntry } from './index-file.ts';
import type { MessageRecord } from './types.ts';

/**
 * One message as the folder knows it; immutable (a change makes a new Entry). A big
 * mailbox holds 100k of these, so an Entry keeps only what cannot be derived: the
 * date as whole seconds (a small integer, where milliseconds need a heap number of
 * their own), the base name as a slice of the file name, the info letters on demand.
 */
export class Entry implements MessageRecord, IndexEntry, Known {
  readonly uid: number;
  readonly modseq: number;
  readonly size: number | undefined;
  readonly flags: readonly string[];
  /** The name in `new/` or `cur/`: `<base>[:2,<info>]`. */
  readonly file: string;
  /** The unique part of the name, which never changes (a slice of `file`). */
  readonly base: string;
  private readonly inCur: boolean;
  private readonly seconds: number;

  constructor(uid: number, modseq: number, size: number | undefined, internalDateMs: number, sub: Sub, file: string, flags: readonly string[]) {
    this.uid = uid;
    this.modseq = modseq;
    this.size = size;
    this.seconds = Math.floor(internalDateMs / 1000);
    this.inCur = sub === 'cur';
    this.file = file;
    const colon = file.indexOf(INFO_SEPARATOR);
    this.base = colon === -1 ? file : file.slice(0, colon);
    this.flags = flags;
  }

  get internalDateMs(): number {
    return this.seconds * 1000;
  }

  get sub(): Sub {
    return this.inCur ? 'cur' : 'new';
  }

  /** Info letters after `:2,` (empty when none). */
  get info(): string {
    return this.file.length === this.base.length ? '' : this.file.slice(this.base.length + INFO_SEPARATOR.length);
  }

  with(changes: { sub?: Sub; file?: string; flags?: readonly string[]; size?: number; modseq?: number }): Entry {
    return new Entry(this.uid, changes.modseq ?? this.modseq, changes.size ?? this.size, this.internalDateMs, changes.sub ?? this.sub, changes.file ?? this.file, changes.flags ?? this.flags);
  }
}

/** Every message of a folder in UID order. */
export class EntryList {
  private list: Entry[] = [];
  /** What `all()` hands out: a copy of the list, made again only after a change. */
  private ordered: readonly Entry[] | undefined;

  get length(): number {
    return this.list.length;
  }

  /** The entries in UID order; the array never changes once handed out. */
  all(): readonly Entry[] {
    this.ordered ??= this.list.slice();
    return this.ordered;
  }

  /** Position of a UID, or -1 (binary search: UIDs ascend). */
  private positionOf(uid: number): number {
    let low = 0;
    let high = this.list.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const value = (this.list[mid] as Entry).uid;
      if (value === uid) return mid;
      if (value < uid) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  get(uid: number): Entry | undefined {
    return this.list[this.positionOf(uid)];
  }

  /** Replaces the record of a UID, or adds a new UID (always the highest so far). */
  put(entry: Entry): void {
    const position = this.positionOf(entry.uid);
    if (position !== -1) this.list[position] = entry;
    else if (entry.uid > (this.list[this.list.length - 1]?.uid ?? 0)) this.list.push(entry);
    else throw new Error(`UID ${entry.uid} would not be the highest`);
    this.ordered = undefined;
  }

  remove(uids: ReadonlySet<number>): void {
    this.list = this.list.filter((entry) => !uids.has(entry.uid));
    this.ordered = undefined;
  }

  /** Empties the list; returns the UIDs it held. */
  clear(): number[] {
    const uids = this.list.map((entry) => entry.uid);
    this.list = [];
    this.ordered = undefined;
    return uids;
  }
}

/** Flags of an info string against the folder's keyword list; one frozen array per distinct info. */
export class InfoFlags {
  private cache = new Map<string, readonly string[]>();
  private cachedKeywords = -1;
  private readonly keywords: string[];

  /** `keywords` is the folder's own list: flagsToInfo appends to it, and the cache follows. */
  constructor(keywords: string[]) {
    this.keywords = keywords;
  }

  of(info: string): readonly string[] {
    if (this.cachedKeywords !== this.keywords.length) {
      this.cache = new Map();
      this.cachedKeywords = this.keywords.length;
    }
    let flags = this.cache.get(info);
    if (!flags) {
      flags = Object.freeze(infoToFlags(info, this.keywords));
      this.cache.set(info, flags);
    }
    return flags;
  }
}
