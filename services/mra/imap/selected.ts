/**
 * One session's view of its selected mailbox: the sequence-number → UID map the client
 * believes in, which changes only when this session tells the client (EXISTS, EXPUNGE,
 * FETCH; RFC 3501 §5.2, §7.4.1). Changes by others are collected as they happen and
 * reported at the next point where the client may hear them.
 */
import { SYSTEM_FLAGS, type MailboxHandle, type MessageRecord } from '../store/types.ts';
import { untagged, type ImapValue, type Response } from './encode.ts';

export class SelectedMailbox {
  readonly handle: MailboxHandle;
  readonly readOnly: boolean;
  /** UIDs by sequence number − 1. */
  private uids: number[];
  private recent: Set<number>;
  private readonly expunged = new Set<number>();
  private readonly flagged = new Set<number>();
  /** Flag changes this session already reported itself (uid → modseq). */
  private readonly reported = new Map<number, number>();
  private readonly stopListening: () => void;
  /** Keywords the client was told of in FLAGS (RFC 3501 §7.2.6), in the order told. */
  private readonly keywords = new Set<string>();
  /** Keywords another session's change brought into the mailbox, not told yet. */
  private readonly pendingKeywords = new Set<string>();
  /** The records as of the last update (UID order), and newer ones of changed messages: what an expunged message last was. */
  private snapshot: readonly MessageRecord[];
  private readonly changedRecords = new Map<number, MessageRecord>();
  /** Whether to show MODSEQ in FETCH responses (RFC 7162 §3.1.4: once CONDSTORE is in use). */
  condstore: boolean;

  constructor(handle: MailboxHandle, readOnly: boolean, condstore: boolean) {
    this.handle = handle;
    this.readOnly = readOnly;
    this.condstore = condstore;
    this.snapshot = handle.messages();
    this.uids = this.snapshot.map((message) => message.uid);
    // RFC 3501 §6.3.2: EXAMINE shows \Recent as SELECT does, but claims nothing (Dovecot).
    this.recent = new Set(readOnly ? handle.peekRecent() : handle.claimRecent());
    this.stopListening = handle.onChange((change) => {
      for (const uid of change.expunged) this.expunged.add(uid);
      for (const uid of change.flagged) {
        this.flagged.add(uid);
        const record = handle.get(uid);
        if (record) this.changedRecords.set(uid, record);
        // A keyword is the mailbox's from its first use on (Dovecot keeps it in the index):
        // told at the next update even if it is gone from the message again by then.
        for (const flag of handle.get(uid)?.flags ?? []) if (!flag.startsWith('\\') && !this.keywords.has(flag)) this.pendingKeywords.add(flag);
      }
    });
  }

  get count(): number {
    return this.uids.length;
  }

  get recentCount(): number {
    return this.recent.size;
  }

  uidAt(seq: number): number | undefined {
    return this.uids[seq - 1];
  }

  /** Sequence number of a UID in this view (binary search: UIDs ascend). */
  seqOf(uid: number): number | undefined {
    let low = 0;
    let high = this.uids.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const value = this.uids[mid] ?? 0;
      if (value === uid) return mid + 1;
      if (value < uid) low = mid + 1;
      else high = mid - 1;
    }
    return undefined;
  }

  allUids(): readonly number[] {
    return this.uids;
  }

  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }

  /** The message, unless it was expunged by someone else and not yet reported. */
  record(uid: number): MessageRecord | undefined {
    return this.handle.get(uid);
  }

  /**
   * The message, or what it last was when another session expunged it and this client
   * was not told yet (its flags can still be reported, as Dovecot reports them from its index).
   */
  lastKnown(uid: number): MessageRecord | undefined {
    const current = this.handle.get(uid) ?? this.changedRecords.get(uid);
    if (current) return current;
    let low = 0;
    let high = this.snapshot.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const record = this.snapshot[mid];
      if (!record) break;
      if (record.uid === uid) return record;
      if (record.uid < uid) low = mid + 1;
      else high = mid - 1;
    }
    return undefined;
  }

  /**
   * What this session stored on a message another session expunged (the client not told
   * yet): later STOREs and FETCHes of it in this view start from these flags, as Dovecot's
   * view keeps its own flag updates of a message until it reports the expunge.
   */
  keepStored(last: MessageRecord, flags: readonly string[]): void {
    if (this.handle.get(last.uid)) return;
    // A plain copy: the store's records keep some fields behind getters, which a spread would drop.
    const { uid, internalDateMs, size, modseq, base } = last;
    this.changedRecords.set(uid, { uid, flags, internalDateMs, size, modseq, base });
  }

  flagsOf(record: Pick<MessageRecord, 'uid' | 'flags'>): ImapValue[] {
    const flags: ImapValue[] = [...record.flags];
    if (this.recent.has(record.uid)) flags.push('\\Recent');
    return flags;
  }

  /** The FLAGS response: system flags and every keyword announced so far. */
  flagsResponses(): Response[] {
    const flags = [...SYSTEM_FLAGS, ...this.keywords];
    const permanent = this.readOnly ? '' : [...flags, '\\*'].join(' ');
    return [
      untagged('FLAGS', flags),
      { kind: 'status', tag: undefined, status: 'OK', code: `PERMANENTFLAGS (${permanent})`, text: this.readOnly ? 'No permanent flags permitted' : 'Flags permitted' },
    ];
  }

  /** Records keywords shown at SELECT. */
  announce(keywords: Iterable<string>): void {
    for (const keyword of keywords) this.keywords.add(keyword);
  }

  /**
   * A new FLAGS (and PERMANENTFLAGS) response when these flags hold a keyword the client
   * has not been told of, to go before the FETCH that shows them (RFC 3501 §7.2.6).
   */
  keywordUpdates(flags: readonly string[]): Response[] {
    let fresh = false;
    for (const flag of flags) {
      if (flag.startsWith('\\') || this.keywords.has(flag)) continue;
      this.keywords.add(flag);
      fresh = true;
    }
    return fresh ? this.flagsResponses() : [];
  }

  markReported(uid: number, modseq: number): void {
    this.reported.set(uid, modseq);
  }

  /**
   * Untagged responses that bring the client up to date. EXPUNGE only when allowed
   * (not during FETCH, STORE, SEARCH: RFC 3501 §7.4.1).
   */
  updates(allowExpunge: boolean): Response[] {
    const responses: Response[] = [];
    if (allowExpunge && this.expunged.size > 0) {
      for (let seq = this.uids.length; seq >= 1; seq -= 1) {
        const uid = this.uids[seq - 1] ?? 0;
        if (!this.expunged.has(uid)) continue;
        this.uids.splice(seq - 1, 1);
        this.recent.delete(uid);
        this.flagged.delete(uid);
        responses.push(untagged(seq, 'EXPUNGE'));
      }
      this.expunged.clear();
    }
    const last = this.uids[this.uids.length - 1] ?? 0;
    const current = this.handle.messages();
    // Kept while expunges are still to be told: the client may still name those messages.
    if (this.expunged.size === 0) {
      this.snapshot = current;
      this.changedRecords.clear();
    }
    // UIDs ascend: the new messages are the tail past the last one the client knows (a
    // scan from the end, not a pass over the whole mailbox at every command).
    let from = current.length;
    while (from > 0 && (current[from - 1]?.uid ?? 0) > last) from -= 1;
    const addedRecords = current.slice(from);
    const added = addedRecords.map((message) => message.uid);
    responses.push(...this.keywordUpdates([...this.pendingKeywords, ...addedRecords.flatMap((record) => record.flags)]));
    this.pendingKeywords.clear();
    if (added.length > 0) {
      this.uids.push(...added);
      for (const uid of this.readOnly ? this.handle.peekRecent() : this.handle.claimRecent()) if (uid > last) this.recent.add(uid);
      responses.push(untagged(this.uids.length, 'EXISTS'), untagged(this.recent.size, 'RECENT'));
    }
    for (const uid of this.flagged) {
      const seq = this.seqOf(uid);
      const record = this.handle.get(uid);
      if (seq === undefined || !record || added.includes(uid)) continue;
      if (this.reported.get(uid) === record.modseq) continue;
      responses.push(...this.keywordUpdates(record.flags));
      const items: ImapValue[] = ['UID', uid, 'FLAGS', this.flagsOf(record)];
      if (this.condstore) items.push('MODSEQ', [record.modseq]);
      responses.push(untagged(seq, 'FETCH', items));
    }
    this.flagged.clear();
    this.reported.clear();
    return responses;
  }

  /** Tells the session's own EXPUNGE/MOVE results at once (they are this session's doing). */
  forgetExpunged(uids: readonly number[]): Response[] {
    for (const uid of uids) this.expunged.add(uid);
    return this.updates(true);
  }

  async close(): Promise<void> {
    this.stopListening();
    await this.handle.release();
  }
}
