/**
 * What a POP3 command handler sees of its session (RFC 1939 §3 states), and the shape of
 * an entry in the command table. Handlers change the session only through these fields
 * and return a Reply; they never touch the socket.
 */
import type { AuthPenalty } from '../../../shared/auth-penalty.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Account, UserDirectory } from '../../../shared/users.ts';
import type { Maildrop, MaildropStore } from './maildrop.ts';
import type { Reply } from './replies.ts';

export type Pop3State = 'authorization' | 'transaction' | 'update';

export interface Pop3Services {
  users: UserDirectory;
  maildrops: MaildropStore;
  hostname: string;
  allowPlaintextAuth: boolean;
  /** Domains whose users may log in here; every domain of the user directory when undefined. */
  domains?: ReadonlySet<string>;
  /** A certificate is configured, so STLS can be offered. */
  tlsAvailable: boolean;
  /** Waits before a failed login is answered (RFC 1939 §13); a parameter so tests need not sleep. */
  delay(ms: number): Promise<void>;
  /** Per client address, before the password check, shared with IMAP (shared/auth-penalty.ts). */
  penalty?: AuthPenalty;
}

export interface Pop3Context {
  readonly services: Pop3Services;
  readonly log: Logger;
  state: Pop3State;
  /** TLS is in place (implicit TLS or after STLS). */
  secure: boolean;
  /** Name given by USER, waiting for PASS. */
  pendingUser?: string;
  account?: Account;
  maildrop?: Maildrop;
  /** Indices (message-number - 1) marked by DELE; applied only in the UPDATE state. */
  deleted: Set<number>;
  /** Indices RETR sent; marked \Seen in the UPDATE state, as Dovecot does (none when the session ends without QUIT). */
  retrieved: Set<number>;
  authFailures: number;
  /** The client's address: the auth penalty's key. */
  remoteAddress?: string;
  /** Set by a handler that expects a SASL continuation line next (RFC 5034 §4). */
  continuation?: (line: string) => Promise<Reply>;
}

export interface CommandSpec {
  states: readonly Pop3State[];
  /** `args` are the space-separated words; `rest` is the whole text after the keyword (PASS may hold spaces). */
  handler(context: Pop3Context, args: readonly string[], rest: string): Reply | Promise<Reply>;
}
