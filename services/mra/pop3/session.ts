/**
 * One POP3 connection: feeds bytes to the line parser, runs one command at a time
 * through a single validation step (line length, known verb, state) into the command
 * table, and writes every reply through one writer. Also owns the connection's timers,
 * the STLS upgrade and the maildrop lock's release when the connection ends.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { connectionId, type Logger } from '../../../shared/log.ts';
import { COMMANDS } from './commands.ts';
import type { Pop3Context, Pop3Services } from './context.ts';
import { AUTOLOGOUT_MS, MAX_BAD_COMMANDS, MAX_COMMAND_LINE_OCTETS } from './limits.ts';
import { LineSplitter, parseCommand, type Line } from './parser.ts';
import { err, ok, serializeParts, type Reply } from './replies.ts';
import { CommandQueue } from '../command-queue.ts';

/** Commands whose arguments are secrets, masked in debug logs. */
const SECRET_VERBS = new Set(['PASS', 'AUTH']);
/** Lines waiting to be handled before the socket is paused (PIPELINING back-pressure). */
const MAX_QUEUED_LINES = 100;

export interface SessionOptions {
  services: Pop3Services;
  logger: Logger;
  secure: boolean;
  secureContext?: tls.SecureContext;
}

export class Pop3Session {
  readonly id = connectionId();
  /** Resolves when the connection is gone and the maildrop lock released. */
  readonly closed: Promise<void>;
  private socket: net.Socket;
  private readonly splitter = new LineSplitter();
  private readonly queue: CommandQueue<Line>;
  private readonly context: Pop3Context;
  private readonly secureContext: tls.SecureContext | undefined;
  private readonly log: Logger;
  private badCommands = 0;
  private ending = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(socket: net.Socket, options: SessionOptions) {
    this.socket = socket;
    this.secureContext = options.secureContext;
    this.queue = new CommandQueue({
      max: MAX_QUEUED_LINES,
      run: (line) => this.runLine(line),
      stopped: () => this.ending,
      pause: () => this.socket.pause(),
      resume: () => this.socket.resume(),
    });
    this.log = options.logger.child({ conn: this.id, remote: socket.remoteAddress, tls: options.secure });
    this.context = {
      services: options.services,
      log: this.log,
      state: 'authorization',
      secure: options.secure,
      deleted: new Set(),
      retrieved: new Set(),
      authFailures: 0,
      ...(socket.remoteAddress === undefined ? {} : { remoteAddress: socket.remoteAddress }),
    };
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ending = true;
        this.release().finally(resolve);
      });
    });
    this.attach(socket);
  }

  start(): void {
    this.log.info('connected');
    void this.write(ok(`${this.context.services.hostname} POP3 server ready`));
  }

  /** Server shutdown: the connection ends without UPDATE (DELE not applied, RFC 1939 §6). */
  async shutdown(): Promise<void> {
    this.ending = true;
    this.socket.destroy();
    await this.closed;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (error) => this.log.debug({ err: error }, 'socket error'));
    socket.setTimeout(AUTOLOGOUT_MS, () => {
      this.log.info('autologout');
      void this.write(err('autologout: idle for too long', undefined, 'close'));
    });
  }

  /** A connection that ends without QUIT leaves the maildrop untouched (RFC 1939 §6). */
  private async release(): Promise<void> {
    const maildrop = this.context.maildrop;
    this.context.maildrop = undefined;
    if (maildrop) await maildrop.close().catch((error: unknown) => this.log.error({ err: error }, 'cannot release maildrop lock'));
    this.log.info('disconnected');
  }

  private receive(chunk: Buffer): void {
    if (this.ending) return;
    this.queue.push(...this.splitter.push(chunk));
  }

  private async runLine(line: Line): Promise<void> {
    const reply = await this.handle(line).catch((error: unknown): Reply => {
      this.log.error({ err: error }, 'command failed');
      return err('internal error, try again later', 'SYS/TEMP');
    });
    await this.write(reply);
  }

  /** The one validation step before any handler: continuation, length, verb, state. */
  private async handle(line: Line): Promise<Reply> {
    const continuation = this.context.continuation;
    this.context.continuation = undefined;
    if (line.kind === 'too-long') return this.bad(continuation ? 'SASL response too long' : 'command line too long');
    if (continuation) {
      this.log.debug({ dir: 'C:' }, '<SASL response>');
      return continuation(line.text);
    }
    const command = parseCommand(line.text);
    if (this.log.isLevelEnabled('debug')) this.log.debug({ dir: 'C:' }, command && SECRET_VERBS.has(command.verb) ? `${command.verb} ***` : line.text);
    if (line.octets > MAX_COMMAND_LINE_OCTETS) return this.bad(`command line longer than ${MAX_COMMAND_LINE_OCTETS} octets`);
    if (!command) return this.bad('syntax error');
    const spec = COMMANDS.get(command.verb);
    if (!spec) return this.bad(`unknown command ${command.verb}`);
    if (!spec.states.includes(this.context.state)) return this.bad(`${command.verb} is not valid in the ${this.context.state.toUpperCase()} state`);
    const rest = line.text.replace(/^\s*\S+ ?/u, '');
    return spec.handler(this.context, command.args, rest);
  }

  private bad(text: string): Reply {
    this.badCommands += 1;
    if (this.badCommands > MAX_BAD_COMMANDS) return err(`${text}; too many bad commands, goodbye`, undefined, 'close');
    return err(text);
  }

  /** The one writer: serializes the reply, waits for the socket, then runs its `then`. */
  private async write(reply: Reply): Promise<void> {
    if (this.socket.destroyed) return;
    const parts = serializeParts(reply);
    if (this.log.isLevelEnabled('debug')) {
      const head = parts[0] ?? Buffer.alloc(0);
      this.log.debug({ dir: 'S:' }, head.subarray(0, Math.min(head.indexOf(0x0d), 200)).toString());
    }
    // Corked: the pieces leave in one write, without a copy of the message joined to its status line.
    this.socket.cork();
    let flushed = true;
    for (const part of parts) flushed = this.socket.write(part);
    this.socket.uncork();
    const then = reply.kind === 'challenge' ? undefined : reply.then;
    if (then === 'close') {
      this.ending = true;
      this.socket.end();
      return;
    }
    if (!flushed) await this.drained();
    if (then === 'starttls') this.startTls();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** RFC 2595 §4: nothing the client pipelined after STLS is read as a command. */
  private startTls(): void {
    if (!this.secureContext) return;
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.setTimeout(0);
    this.splitter.reset();
    this.queue.clear();
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.secureContext });
    this.socket = secure;
    this.attach(secure);
    secure.once('secure', () => {
      this.context.secure = true;
      this.log.info({ protocol: secure.getProtocol() }, 'STLS done');
    });
  }
}
