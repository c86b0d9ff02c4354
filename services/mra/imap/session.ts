/**
 * One IMAP connection: frames commands (reader.ts), validates state and arguments in
 * one place, runs the handler from the command table, and writes every reply through
 * one writer. Also owns the session policies: STARTTLS, login failure delays, too many
 * bad commands, autologout.
 */
import { LOGIN_DEADLINE_MS, PRELOGIN_MAX_LITERAL_BYTES } from './prelogin.ts';
import { isIP } from 'node:net';
import type { AuthPenalty } from '../../../shared/auth-penalty.ts';
import type { ClientList } from '../../../shared/client-list.ts';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectionId, type Logger } from '../../../shared/log.ts';
import type { Account } from '../../../shared/users.ts';
import { MailStoreError, type MailboxHandle, type MailStore, type UserMailStore } from '../store/types.ts';
import { ArgumentError, type AnyCommand, type Reply, type Session, type SessionState } from './command.ts';
import { encodeResponse, encodeResponses, type Response } from './encode.ts';
import { ImapSyntaxError, parseCommand } from './parser.ts';
import { CommandReader, MAX_LITERAL_BYTES, type ReaderProblem } from './reader.ts';
import { MAX_AUTH_FAILURES, MAX_BAD_COMMANDS, MAX_QUEUED_COMMANDS } from './limits.ts';
import { SelectedMailbox } from './selected.ts';
import { CommandQueue } from '../command-queue.ts';


export interface Authenticator {
  authenticate(username: string, password: string): Promise<Account | undefined>;
}

export interface SessionOptions {
  hostname: string;
  store: MailStore;
  users: Authenticator;
  /** Only accounts of these domains log in here (MRA_DOMAINS). */
  domains: readonly string[];
  tls: SecureContext | undefined;
  allowPlaintextAuth: boolean;
  logger: Logger;
  /** Delay after the n-th failed login is n times this. */
  authFailureDelayMs: number;
  /** Per client address, before the password check (shared/auth-penalty.ts). */
  penalty: AuthPenalty;
  /** Clients trusted to name the real client in ID (MRA_TRUSTED_NETWORKS). */
  trustedNetworks?: ClientList;
  /** Inactivity limits: after login (at least 30 min, RFC 3501 §5.4) and before. */
  timeouts: { autologoutMs: number; preauthMs: number; loginDeadlineMs?: number };
  commands: ReadonlyMap<string, AnyCommand>;
}

export class ImapConnection implements Session {
  readonly id = connectionId();
  readonly enabled = new Set<string>();
  readonly logger: Logger;
  state: SessionState = 'not-authenticated';
  secure: boolean;
  account: Account | undefined;
  selected: SelectedMailbox | undefined;
  private socket: Socket;
  /** The real client's address as named by a trusted web mail (noteClientId). */
  private originatingAddress: string | undefined;
  private userStore: UserMailStore | undefined;
  private readonly reader: CommandReader;
  private readonly options: SessionOptions;
  private readonly queue: CommandQueue<Buffer>;
  private closed = false;
  private badCommands = 0;
  private authFailures = 0;
  private lineWaiter: ((line: Buffer) => void) | undefined;
  private readonly closeWaiters = new Set<() => void>();
  private readonly releasePrelogin: (() => void) | undefined;
  private readonly loginDeadline: NodeJS.Timeout;

  constructor(socket: Socket, options: SessionOptions, secure: boolean, releasePrelogin?: () => void) {
    this.socket = socket;
    this.options = options;
    this.secure = secure;
    this.logger = options.logger.child({ conn: this.id });
    this.reader = new CommandReader({
      command: (raw) => this.onCommand(raw),
      continuation: () => void this.send({ kind: 'continuation', text: 'Ready for literal data' }),
      problem: (problem) => void this.onReaderProblem(problem),
      maxLiteralBytes: () => (this.state === 'not-authenticated' ? PRELOGIN_MAX_LITERAL_BYTES : MAX_LITERAL_BYTES),
    });
    this.queue = new CommandQueue({
      max: MAX_QUEUED_COMMANDS,
      run: (raw) => this.runCommand(raw),
      stopped: () => this.closed,
      pause: () => this.socket.pause(),
      resume: () => this.socket.resume(),
    });
    this.attach(socket);
    this.releasePrelogin = releasePrelogin;
    // Not the idle timer: this one does not restart when the client sends something.
    this.loginDeadline = setTimeout(() => {
      if (this.state === 'not-authenticated') void this.bye('Login time is over');
    }, options.timeouts.loginDeadlineMs ?? LOGIN_DEADLINE_MS);
    this.loginDeadline.unref();
  }

  /** Logged in or gone: the pre-login slot and deadline are given back. */
  private leavePrelogin(): void {
    clearTimeout(this.loginDeadline);
    this.releasePrelogin?.();
  }

  get hostname(): string {
    return this.options.hostname;
  }

  get tlsAvailable(): boolean {
    return this.options.tls !== undefined;
  }

  get plaintextAuthAllowed(): boolean {
    return this.secure || this.options.allowPlaintextAuth;
  }

  private readonly onData = (chunk: Buffer) => this.reader.push(chunk);
  private readonly onClose = () => void this.cleanup();
  private readonly onError = (error: Error) => this.logger.debug({ err: error }, 'socket error');
  private readonly onTimeout = () => void this.bye('Autologout; idle for too long');

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('timeout', this.onTimeout);
    this.armTimer(socket);
  }

  /** The autologout timer runs while the server waits for the client, not while it works. */
  private armTimer(socket: Socket = this.socket): void {
    socket.setTimeout(this.state === 'not-authenticated' ? this.options.timeouts.preauthMs : this.options.timeouts.autologoutMs);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('close', this.onClose);
    socket.off('error', this.onError);
    socket.off('timeout', this.onTimeout);
    socket.setTimeout(0);
  }

  async greet(): Promise<void> {
    this.logger.info({ remote: this.socket.remoteAddress, secure: this.secure }, 'imap connection');
    await this.send({ kind: 'status', tag: undefined, status: 'OK', code: `CAPABILITY ${this.capabilities().join(' ')}`, text: `${this.options.hostname} mxlab IMAP4rev1 ready` });
  }

  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UIDPLUS', 'MOVE', 'CONDSTORE', 'SPECIAL-USE', 'UNSELECT', 'CHILDREN', `APPENDLIMIT=${MAX_LITERAL_BYTES}`];
    if (this.state === 'not-authenticated') {
      if (this.options.tls && !this.secure) caps.push('STARTTLS');
      caps.push(this.plaintextAuthAllowed ? 'AUTH=PLAIN' : 'LOGINDISABLED');
    }
    return caps;
  }

  mail(): UserMailStore {
    if (!this.userStore) throw new MailStoreError('SERVERBUG', 'not logged in');
    return this.userStore;
  }

  /** The one writer: encodes reply values and writes them, waiting when the socket is full. */
  async send(...responses: Response[]): Promise<void> {
    if (responses.length === 0 || this.closed || this.socket.destroyed) return;
    if (this.logger.isLevelEnabled('debug')) {
      for (const response of responses) this.logger.debug({ dir: 'S:', line: encodeResponse(response).subarray(0, 200).toString('latin1').trimEnd() });
    }
    if (!this.socket.write(encodeResponses(responses))) await this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.closeWaiters.delete(done);
        resolve();
      };
      this.socket.once('drain', done);
      this.closeWaiters.add(done);
    });
  }

  /** Resolves with the next line, or `*` (a cancel) when the connection closes first. */
  nextLine(): Promise<Buffer> {
    return new Promise((resolve) => {
      const onClose = () => resolve(Buffer.from('*'));
      this.closeWaiters.add(onClose);
      this.armTimer();
      this.lineWaiter = (line) => {
        this.socket.setTimeout(0);
        this.closeWaiters.delete(onClose);
        resolve(line);
      };
    });
  }

  private onCommand(raw: Buffer): void {
    if (this.lineWaiter) {
      const waiter = this.lineWaiter;
      this.lineWaiter = undefined;
      waiter(raw);
      return;
    }
    this.queue.push(raw);
  }

  /** One queued command; the idle timer does not run while it does. */
  private async runCommand(raw: Buffer): Promise<void> {
    this.socket.setTimeout(0);
    try {
      try {
        await this.execute(raw);
      } finally {
        if (!this.closed) this.armTimer();
      }
    } catch (error) {
      this.logger.error({ err: error }, 'imap session failed');
      await this.bye('Internal server error');
    }
  }

  private async onReaderProblem(problem: ReaderProblem): Promise<void> {
    const tag = problem.tag ?? '*';
    if (problem.kind === 'line-too-long') {
      await this.bad(tag, 'Command line too long');
    } else if (problem.synchronizing) {
      await this.send({ kind: 'status', tag, status: 'NO', code: 'TOOBIG', text: `Literal of ${problem.size} octets is over the limit of ${MAX_LITERAL_BYTES}` });
    } else {
      await this.send({ kind: 'status', tag, status: 'BAD', code: 'TOOBIG', text: `Literal of ${problem.size} octets is over the limit of ${MAX_LITERAL_BYTES}` });
      await this.bye('Literal too big');
    }
  }

  private async bad(tag: string, text: string): Promise<void> {
    this.badCommands += 1;
    await this.send({ kind: 'status', tag, status: 'BAD', text });
    if (this.badCommands >= MAX_BAD_COMMANDS) await this.bye('Too many invalid commands');
  }

  private async execute(raw: Buffer): Promise<void> {
    if (this.logger.isLevelEnabled('debug')) {
      const text = raw.subarray(0, 200).toString('latin1');
      this.logger.debug({ dir: 'C:', line: /^\S+ (LOGIN|AUTHENTICATE)\b/iu.test(text) ? text.split(' ').slice(0, 2).join(' ') + ' …' : text });
    }
    let parsed;
    try {
      parsed = parseCommand(raw);
    } catch (error) {
      if (!(error instanceof ImapSyntaxError)) throw error;
      await this.bad(error.tag ?? '*', `Syntax error: ${error.message}`);
      return;
    }
    const { tag, verb, args } = parsed;
    const command = this.options.commands.get(verb);
    if (!command) {
      await this.bad(tag, `Unknown command ${verb.slice(0, 40)}`);
      return;
    }
    if (!command.states.includes(this.state)) {
      const why = this.state === 'not-authenticated' ? 'log in first' : this.state === 'authenticated' ? 'select a mailbox first' : `not allowed in the ${this.state} state`;
      await this.bad(tag, `${verb}: ${why}`);
      return;
    }
    let reply: Reply;
    try {
      reply = await command.run(this, args, tag);
    } catch (error) {
      if (error instanceof ArgumentError) {
        if (error.code !== undefined) {
          await this.send({ kind: 'status', tag, status: 'NO', code: error.code, text: `${verb}: ${error.message}` });
        } else {
          await this.bad(tag, `${verb}: ${error.message}`);
        }
        return;
      }
      if (error instanceof MailStoreError && error.code !== 'SERVERBUG') {
        reply = { status: 'NO', code: error.code, text: error.message };
      } else {
        this.logger.error({ err: error, verb }, 'imap command failed');
        reply = { status: 'NO', code: 'SERVERBUG', text: 'Internal error, try again later' };
      }
    }
    // Changes by other processes arrive through the folder's watcher; NOOP, CHECK and
    // IDLE also reread the folder, so a client that polls never waits for the watcher.
    const updates = this.selected && reply.then === undefined ? this.selected.updates(command.allowsExpunge) : [];
    await this.send(...updates, { kind: 'status', tag, status: reply.status, ...(reply.code === undefined ? {} : { code: reply.code }), text: reply.text });
    // Only bad commands in a row end the session (as Dovecot counts): a client or a test
    // suite that probes refusals between good commands keeps its connection.
    if (reply.status !== 'BAD') this.badCommands = 0;
    if (reply.then === 'starttls') this.startTls();
    if (reply.then === 'logout') await this.end();
  }

  /**
   * The web mail names its user's address in ID before LOGIN (`x-originating-ip`, as
   * Dovecot reads it); believed only from MRA_TRUSTED_NETWORKS, and only before login.
   */
  noteClientId(fields: readonly string[]): void {
    if (this.state !== 'not-authenticated' || !this.options.trustedNetworks?.allows(this.socket.remoteAddress)) return;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1] ?? '';
      if (fields[i]?.toLowerCase() === 'x-originating-ip' && isIP(value) !== 0) this.originatingAddress = value;
    }
  }

  async login(username: string, password: string): Promise<Reply> {
    const client = this.originatingAddress ?? this.socket.remoteAddress ?? 'unknown';
    const account = await this.options.penalty.attempt(client, async () => {
      const found = await this.options.users.authenticate(username, password);
      return found && this.options.domains.includes(found.domain) ? found : undefined;
    }, username);
    if (account) {
      this.account = account;
      this.userStore = await this.options.store.forUser(account);
      this.state = 'authenticated';
      this.leavePrelogin();
      this.logger.info({ user: account.address }, 'imap login');
      return { status: 'OK', code: `CAPABILITY ${this.capabilities().join(' ')}`, text: 'Logged in' };
    }
    this.authFailures += 1;
    this.logger.info({ user: username.slice(0, 100), failures: this.authFailures }, 'imap login failed');
    await sleep(this.options.authFailureDelayMs * this.authFailures);
    if (this.authFailures >= MAX_AUTH_FAILURES) {
      await this.send({ kind: 'status', tag: undefined, status: 'BYE', text: 'Too many failed logins' });
      return { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'Authentication failed', then: 'logout' };
    }
    return { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'Authentication failed' };
  }

  select(handle: MailboxHandle, readOnly: boolean): SelectedMailbox {
    this.selected = new SelectedMailbox(handle, readOnly, this.enabled.has('CONDSTORE'));
    this.state = 'selected';
    return this.selected;
  }

  async unselect(): Promise<void> {
    const selected = this.selected;
    this.selected = undefined;
    if (this.state === 'selected') this.state = 'authenticated';
    await selected?.close();
  }

  /** RFC 3501 §6.2.1: bytes the client pipelined after STARTTLS are discarded. */
  private startTls(): void {
    const context = this.options.tls;
    if (!context) return;
    this.reader.reset();
    this.queue.clear();
    const plain = this.socket;
    this.detach(plain);
    const secure = new TLSSocket(plain, { isServer: true, secureContext: context });
    this.socket = secure;
    this.secure = true;
    this.attach(secure);
  }

  private async bye(text: string): Promise<void> {
    await this.send({ kind: 'status', tag: undefined, status: 'BYE', text });
    await this.end();
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state = 'logout';
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
    await this.cleanup();
  }

  /** Server shutdown: tell the client, then close. */
  async shutdown(): Promise<void> {
    await this.bye(`${this.options.hostname} shutting down`);
    this.socket.destroy();
  }

  private cleaned = false;

  private async cleanup(): Promise<void> {
    this.closed = true;
    this.leavePrelogin();
    for (const waiter of this.closeWaiters) waiter();
    this.closeWaiters.clear();
    if (this.cleaned) return;
    this.cleaned = true;
    await this.unselect().catch((error: unknown) => this.logger.warn({ err: error }, 'unselect failed'));
  }

  get done(): boolean {
    return this.closed;
  }
}
