/**
 * The shape of one IMAP command module: the states it is allowed in, its argument
 * schema (a parse function that throws ArgumentError → BAD) and its handler, which
 * returns a reply value. The session validates state and arguments in one place
 * before any handler runs (session.ts).
 */
import type { Account } from '../../../shared/users.ts';
import type { Logger } from '../../../shared/log.ts';
import type { UserMailStore, MailboxHandle } from '../store/types.ts';
import type { Response } from './encode.ts';
import type { Token } from './parser.ts';
import type { SelectedMailbox } from './selected.ts';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export const ANY_STATE: readonly SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
export const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
export const SELECTED: readonly SessionState[] = ['selected'];

export interface Reply {
  status: 'OK' | 'NO' | 'BAD';
  code?: string;
  text: string;
  /** What the session does once the tagged reply is on the wire. */
  then?: 'starttls' | 'logout';
}

export const ok = (text: string, code?: string): Reply => (code === undefined ? { status: 'OK', text } : { status: 'OK', code, text });
export const no = (text: string, code?: string): Reply => (code === undefined ? { status: 'NO', text } : { status: 'NO', code, text });

/** Bad arguments: answered `BAD` with the message, or `NO [code]` when a response code fits (BADCHARSET). */
export class ArgumentError extends Error {
  override readonly name = 'ArgumentError';
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/** What a handler may see and do; implemented by the connection (session.ts). */
export interface Session {
  readonly id: string;
  readonly state: SessionState;
  readonly secure: boolean;
  readonly account: Account | undefined;
  readonly selected: SelectedMailbox | undefined;
  /** CONDSTORE once enabled (RFC 7162 §3.1). */
  readonly enabled: Set<string>;
  readonly logger: Logger;
  readonly hostname: string;
  readonly tlsAvailable: boolean;
  readonly plaintextAuthAllowed: boolean;
  capabilities(): string[];
  mail(): UserMailStore;
  send(...responses: Response[]): Promise<void>;
  /** Checks credentials with the failure policy (delay, limit); undefined on failure. */
  login(username: string, password: string): Promise<Reply>;
  /** RFC 2971 ID fields (name, value, …), read for `x-originating-ip` from a trusted client. */
  noteClientId?(fields: readonly string[]): void;
  select(handle: MailboxHandle, readOnly: boolean): SelectedMailbox;
  unselect(): Promise<void>;
  /** The next line the client sends (AUTHENTICATE data, IDLE's DONE). */
  nextLine(): Promise<Buffer>;
}

export interface CommandSpec<A> {
  states: readonly SessionState[];
  parse(args: readonly Token[]): A;
  handle(session: Session, args: A, tag: string): Promise<Reply>;
  /** May EXPUNGE responses follow it (RFC 3501 §7.4.1: not after FETCH, STORE, SEARCH). */
  allowsExpunge: boolean;
}

export interface AnyCommand {
  states: readonly SessionState[];
  allowsExpunge: boolean;
  run(session: Session, args: readonly Token[], tag: string): Promise<Reply>;
}

/** Binds a command's parse and handle so the table holds one type. */
export function defineCommand<A>(spec: CommandSpec<A>): AnyCommand {
  return {
    states: spec.states,
    allowsExpunge: spec.allowsExpunge,
    run: (session, args, tag) => spec.handle(session, spec.parse(args), tag),
  };
}
