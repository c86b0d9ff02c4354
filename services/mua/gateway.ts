/**
 * The MUA's boundary towards the mail servers: a per-session mail store (IMAP) and a
 * submitter (SMTP). The HTTP routes only see these interfaces, so unit tests can fake
 * them; imap-gateway.ts and submitter.ts are the real implementations.
 */
import type { Endpoint } from './discovery.ts';

export interface Credentials {
  user: string;
  password: string;
  /** The browser's address, named to IMAP in ID (`x-originating-ip`) for the MRA's auth penalty. */
  client?: string;
}

export type SpecialUse = 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk';

export interface FolderInfo {
  path: string;
  name: string;
  specialUse?: SpecialUse;
  total: number;
  unread: number;
}

export interface AddressView {
  name: string;
  address: string;
}

export interface MessageSummary {
  uid: number;
  from: AddressView[];
  to: AddressView[];
  subject: string;
  /** ISO 8601 */
  date: string;
  size: number;
  flags: string[];
  hasAttachments: boolean;
}

export interface MessagePage {
  folder: string;
  page: number;
  pageSize: number;
  total: number;
  messages: MessageSummary[];
}

export interface ListOptions {
  page: number;
  pageSize: number;
  query?: string;
}

export type StoreEvent = { type: 'new'; folder: string; count: number } | { type: 'changed'; folder: string };

/** One user's mailboxes over one IMAP connection. */
export interface MailStore {
  /** False once the connection is gone (the session then opens a new one). */
  alive(): boolean;
  listFolders(): Promise<FolderInfo[]>;
  listMessages(folder: string, options: ListOptions): Promise<MessagePage>;
  /** The raw message, or undefined when the UID is gone. */
  fetchSource(folder: string, uid: number): Promise<Buffer | undefined>;
  setFlag(folder: string, uid: number, flag: string, on: boolean): Promise<void>;
  move(folder: string, uid: number, target: string): Promise<void>;
  /** Moves to Trash; in Trash itself, deletes for good. */
  trash(folder: string, uid: number): Promise<void>;
  /** Appends to the folder with this special use (made if missing); returns its path. */
  appendTo(use: SpecialUse, raw: Buffer, flags: string[]): Promise<string>;
  onEvent(listener: (event: StoreEvent) => void): () => void;
  close(): Promise<void>;
}

export class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
}

export interface ImapGateway {
  /** Logs in; throws AuthFailure for a refused login, other errors for unreachable servers. */
  open(endpoint: Endpoint, credentials: Credentials): Promise<MailStore>;
}

export interface Envelope {
  from: string;
  to: string[];
}

/** A refusal by the submission server, with its SMTP reply. */
export class SubmitRefused extends Error {
  override readonly name = 'SubmitRefused';
  readonly code: number | undefined;
  readonly response: string;

  constructor(message: string, code: number | undefined, response: string) {
    super(message);
    this.code = code;
    this.response = response;
  }
}

export interface Submitter {
  /**
   * Submits `raw` with STARTTLS + AUTH, greeting with `clientName` (EHLO); throws
   * SubmitRefused when the server says no.
   */
  send(endpoint: Endpoint, credentials: Credentials, envelope: Envelope, raw: Buffer, clientName: string): Promise<{ response: string }>;
}
