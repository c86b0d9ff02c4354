/**
 * The mailbox store seen by the protocol servers. IMAP code talks only to these
 * interfaces; the Maildir++ implementation is one of them (maildir-store.ts).
 */

/** RFC 3501 §2.3.2 system flags; keywords are any other atom. */
export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;

export interface MessageRecord {
  /** RFC 3501 §2.3.1.1, unique and ascending within one UIDVALIDITY. */
  readonly uid: number;
  /** System flags (`\Seen` …) and keywords; never `\Recent`. */
  readonly flags: readonly string[];
  /** RFC 3501 §2.3.3, milliseconds since the epoch (whole seconds). */
  readonly internalDateMs: number;
  /** Octets, or undefined until first asked (then read from the file once). */
  readonly size: number | undefined;
  /** RFC 7162 §3.1.1 per-message mod-sequence. */
  readonly modseq: number;
  /** The stored message's unique name, which never changes while it exists (POP3 UIDL). */
  readonly base: string;
}

export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Junk' | '\\Trash';

export interface MailboxInfo {
  /** IMAP name, hierarchy delimiter `.` (`INBOX`, `Sent`, `Work.Projects`). */
  name: string;
  specialUse?: SpecialUse;
  /** RFC 3348 CHILDREN */
  hasChildren: boolean;
  /** No folder of its own (a parent implied by a child's name). */
  noSelect: boolean;
  subscribed: boolean;
}

export interface MailboxStatus {
  messages: number;
  recent: number;
  uidNext: number;
  uidValidity: number;
  unseen: number;
  highestModseq: number;
}

export type FlagMode = 'set' | 'add' | 'remove';

/** A message a folder takes in: its octets (APPEND) or a file to hard-link (COPY). */
export interface NewMessage {
  flags: readonly string[];
  internalDate: Date;
  content?: Buffer;
  source?: string;
  size: number;
}

export interface FlagChange {
  uid: number;
  flags: readonly string[];
  modseq: number;
}

/** Emitted after the mailbox changed, by this process or by a file seen on disk. */
export interface MailboxChange {
  added: readonly number[];
  expunged: readonly number[];
  flagged: readonly number[];
}

/** One open folder, shared by every session that selected it. */
export interface MailboxHandle {
  readonly name: string;
  readonly uidValidity: number;
  uidNext(): number;
  highestModseq(): number;
  /** Every keyword the mailbox has had (Dovecot's keyword list), in use or not: SELECT's FLAGS. */
  readonly keywords: readonly string[];
  /** Messages in UID order (a fresh array; records are immutable). */
  messages(): readonly MessageRecord[];
  get(uid: number): MessageRecord | undefined;
  /** Rereads the folder (new deliveries, renames by others) before a reply that needs it. */
  sync(): Promise<void>;
  /** The whole message as stored (RFC 5322 octets). */
  read(uid: number): Promise<Buffer>;
  /** Only the header block (up to and including the blank line), without reading the body. */
  readHeader(uid: number): Promise<Buffer>;
  /** Size in octets, read from disk once when the file name does not carry it. */
  size(uid: number): Promise<number>;
  /** `unchangedSince` (RFC 7162 §3.2): records whose modseq is higher are left alone and reported. */
  setFlags(uids: readonly number[], mode: FlagMode, flags: readonly string[], unchangedSince?: number): Promise<{ changed: FlagChange[]; modified: number[] }>;
  /** Removes the messages for good; returns the UIDs actually removed. */
  expunge(uids: readonly number[]): Promise<number[]>;
  /** Copies to another folder of the same store; returns the new UIDs in order. */
  copyTo(uids: readonly number[], target: string): Promise<{ uidValidity: number; uids: number[] }>;
  /** Claims the messages not yet seen by any session as `\Recent` for the caller (RFC 3501 §2.3.2). */
  claimRecent(): ReadonlySet<number>;
  /** The same messages without claiming them: a read-only session (EXAMINE) shows them \Recent and leaves them so. */
  peekRecent(): ReadonlySet<number>;
  onChange(listener: (change: MailboxChange) => void): () => void;
  /** Releases this user of the handle (watchers stop with the last one). */
  release(): Promise<void>;
}

export class MailStoreError extends Error {
  override readonly name = 'MailStoreError';
  /** IMAP response code (RFC 5530) the protocol layer shows with NO. */
  readonly code: 'NONEXISTENT' | 'ALREADYEXISTS' | 'CANNOT' | 'LIMIT' | 'TRYCREATE' | 'INUSE' | 'SERVERBUG';
  constructor(code: MailStoreError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** One user's mail: the folders of a Maildir++ root. */
export interface UserMailStore {
  readonly owner: string;
  list(): Promise<MailboxInfo[]>;
  create(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  subscribe(name: string, subscribed: boolean): Promise<void>;
  /** Subscribed names, whether or not the mailboxes exist (RFC 3501 §6.3.6). */
  subscribed(): Promise<string[]>;
  status(name: string): Promise<MailboxStatus>;
  open(name: string): Promise<MailboxHandle>;
  append(name: string, message: Buffer, flags: readonly string[], internalDate?: Date): Promise<{ uidValidity: number; uid: number }>;
}

export interface MailStore {
  /** The store of one account (`local@domain`), made on first use with the standard folders. */
  forUser(account: { local: string; domain: string; address: string }): Promise<UserMailStore>;
  close(): Promise<void>;
}
