/**
 * smtp-server, with what its options cannot express, in one subclass of its connection:
 * (1) on submission, AUTH is advertised only once TLS protects the password (RFC 4954 §4,
 * Postfix smtpd_tls_auth_only) and AUTH before TLS is answered
 * `530 5.7.0 Must issue a STARTTLS command first`; (2) the fault plan (chaos.ts) at
 * connect, HELO/EHLO, STARTTLS, AUTH, MAIL, RCPT and DATA, here because a rule may close
 * the connection, which smtp-server's hooks cannot; (3) one correct RFC 3463 code on every reply
 * (ours carry theirs, the library's are corrected where its table is wrong); (4) MAIL and
 * RCPT parameters we do not implement are refused (555 5.5.4, RFC 5321 §4.1.1.11), VRFY
 * and EXPN answered as Postfix does, and AUTH responses that are not base64 refused
 * (501 5.5.2, RFC 4954 §4); (5) Postfix's hard error and junk command limits (421 4.7.0
 * after MAX_ERRORS_PER_SESSION errors; NOOP/VRFY/RSET beyond MAX_JUNK_COMMANDS count as errors);
 * (6) the greeting without the library's fixed 100 ms early-talker delay (pregreet.ts does that job).
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../../shared/log.ts';
import type { SmtpAttempt } from '../../../shared/chaos/engine.ts';
import type { SmtpStage } from '../../../shared/chaos/rules.ts';
import { clientAddress, runChaos, type ChaosEngine } from './chaos.ts';
import { LimitedLines, TOO_LONG_LINE } from './command-lines.ts';
import { MAX_ERRORS_PER_SESSION, MAX_JUNK_COMMANDS } from './limits.ts';

export interface MtaServerExtras {
  chaos: ChaosEngine;
  /** The listener's logger (chaos decisions are logged here). */
  logger: Logger;
  /** Leave AUTH out of EHLO until the session is encrypted. */
  authOnlyOverTls: boolean;
  /** MAIL FROM parameters the listener implements (upper case); any other is 555 5.5.4. */
  mailParameters: readonly string[];
}

/** A reply text that already starts with its enhanced status code (our replies.ts table). */
const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /u;

/**
 * smtp-server's replies whose enhanced code its table gets wrong (it maps by reply code
 * only), keyed by `code text`.
 */
const LIBRARY_CODES: ReadonlyMap<string, string> = new Map([
  // RFC 4954 §6: "501 5.7.0 Client initiated Authentication Exchange" (the client's `*`).
  ['501 Authentication aborted', '5.7.0'],
  // RFC 4954 §4: a response that does not decode is 501 5.5.2.
  ['501 Error: invalid userdata', '5.5.2'],
  ['501 Error: missing username', '5.5.2'],
  // Passed the command name as context, which drops the code for `LHLO` (an LMTP greeting).
  ['500 Error: command not recognized', '5.5.2'],
  // Postfix: `421 4.7.0 <host> Error: too many errors`; X.4.2 would blame the connection.
  ['421 Error: too many unrecognized commands', '4.7.0'],
  ['421 Error: too many unauthenticated commands', '4.7.0'],
  ['421 HTTP requests not allowed', '4.7.0'],
  ['421 Server shutting down', '4.3.2'],
]);

/** Commands that move no mail (Postfix's junk commands). */
const JUNK_COMMANDS = new Set(['NOOP', 'VRFY', 'RSET']);

/** RFC 4648 base64, or `=` for an empty response (RFC 4954 §4). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/u;

function isBase64Response(text: string): boolean {
  return text === '=' || (text !== '' && BASE64.test(text));
}

type Handler = (command: Buffer, callback: () => void) => void;

class MtaConnection extends SMTPConnection {
  /** 4xx/5xx replies so far (Postfix smtpd_hard_error_limit); a queued message clears it. */
  private errors = 0;
  /** NOOP/VRFY/RSET so far (Postfix smtpd_junk_command_limit); a queued message clears it. */
  private junkCommands = 0;

  /** The parser of the current socket (a new one after STARTTLS). */
  private lines: LimitedLines | undefined;

  private get extras(): MtaServerExtras {
    return (this._server as MtaSmtpServer).extras;
  }

  /** Runs the fault plan for `stage`; `proceed` answers normally, `callback` ends the command. */
  private chaos(stage: SmtpStage, attempt: Omit<SmtpAttempt, 'client'>, callback: () => void, proceed: () => void): void {
    runChaos(this.extras.chaos, stage, { client: clientAddress(this.remoteAddress), ...attempt }, this.extras.logger.child({ conn: this.id }), {
      proceed,
      reply: (code, text) => {
        this.send(code, text);
        callback();
      },
      drop: (mode) => {
        if (mode === 'mid-data' && this.lines !== undefined) {
          // The socket goes once part of the message is in: the final dot never arrives.
          this.lines.cutData(() => this._socket.destroy());
          proceed();
        } else {
          this._socket.destroy();
        }
      },
    });
  }

  private sender(): string | undefined {
    const from = this.session.envelope.mailFrom;
    return from ? from.address : undefined;
  }

  /** The library's parser, wired the same way, with over-long lines skipped (command-lines.ts). */
  override _createParser(): LimitedLines {
    const parser = new LimitedLines({ maxCommandLength: this._server.options.maxCommandLength });
    this.lines = parser;
    parser.oncommand = (command, callback) => this._onCommand(command, callback);
    parser.on('error', (error: Error) => this.send(421, `Error: ${error.message}`));
    return parser;
  }

  /**
   * smtp-server holds every greeting back 100 ms to catch early talkers. The MX
   * listener's pregreet test (pregreet.ts) does that once per client address, and
   * submission clients authenticate, so the 220 goes out at once; a line that still
   * arrives before it gets the library's 421 "You talk too soon".
   */
  override init(): void {
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      this.connectionReady();
    });
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (typeof data === 'string' && context !== false && ENHANCED_PREFIX.test(data)) {
      super.send(code, data, false);
    } else {
      const corrected = typeof data === 'string' ? LIBRARY_CODES.get(`${code} ${data}`) : undefined;
      if (corrected) super.send(code, `${corrected} ${data as string}`, false);
      else super.send(code, data, context);
    }
    if (code >= 400 && code !== 421) this.errors += 1;
    if (code === 250 && context === 'DATA_OK') {
      this.errors = 0;
      this.junkCommands = 0;
    }
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    if (this._upgrading || !this._ready) {
      super._onCommand(command, callback);
      return;
    }
    const done = callback ?? (() => undefined);
    if (this.errors >= MAX_ERRORS_PER_SESSION) {
      this.send(421, `4.7.0 ${this.name} Error: too many errors`);
      return;
    }
    const line = command.toString('latin1');
    if (line === TOO_LONG_LINE) {
      if (this._nextHandler) {
        this._nextHandler = false;
        this.send(500, '5.5.6 Authentication Exchange line is too long');
      } else {
        this.send(500, '5.5.2 Error: command line too long');
      }
      setImmediate(done);
      return;
    }
    if (!this._nextHandler && JUNK_COMMANDS.has((line.split(' ')[0] ?? '').toUpperCase())) {
      this.junkCommands += 1;
      if (this.junkCommands > MAX_JUNK_COMMANDS) this.errors += 1;
    }
    if (this._nextHandler) {
      // A response inside an AUTH exchange: `*` cancels, anything else must be base64
      // (an empty line is a zero-length response here; `=` is only for initial responses).
      const response = line.trim();
      if (response !== '*' && response !== '' && !isBase64Response(response)) {
        this._nextHandler = false;
        this.send(501, '5.5.2 Cannot decode response');
        setImmediate(done);
        return;
      }
    }
    super._onCommand(command, callback);
  }

  override handler_MAIL(command: Buffer, callback: () => void): void {
    if (this.refuseParameters('mail from', command, this.extras.mailParameters)) return callback();
    const parsed = this._parseAddressCommand('mail from', command);
    this.chaos('mail', parsed ? { sender: parsed.address } : {}, callback, () => super.handler_MAIL(command, callback));
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    if (this.refuseParameters('rcpt to', command, [])) return callback();
    const parsed = this._parseAddressCommand('rcpt to', command);
    const sender = this.sender();
    this.chaos('rcpt', { ...(sender === undefined ? {} : { sender }), ...(parsed ? { rcpts: [parsed.address] } : {}) }, callback, () => super.handler_RCPT(command, callback));
  }

  override handler_STARTTLS(command: Buffer, callback: () => void): void {
    this.chaos('starttls', {}, callback, () => super.handler_STARTTLS(command, callback));
  }

  /** RFC 5321 §4.1.1.5: `rset = "RSET" CRLF` (Postfix: 501 5.5.4 Syntax: RSET). */
  override handler_RSET(command: Buffer, callback: () => void): void {
    if (this.refuseArguments('RSET', command)) callback();
    else super.handler_RSET(command, callback);
  }

  /** RFC 5321 §4.1.1.4: `data = "DATA" CRLF`; with arguments, no 354 (Postfix: 501 5.5.4 Syntax: DATA). */
  override handler_DATA(command: Buffer, callback: () => void): void {
    if (this.refuseArguments('DATA', command)) return callback();
    // Without recipients smtp-server answers 503; the plan is asked about real transactions only.
    if (this.session.envelope.rcptTo.length === 0) return super.handler_DATA(command, callback);
    const sender = this.sender();
    const rcpts = this.session.envelope.rcptTo.map((rcpt) => rcpt.address);
    this.chaos('data', { ...(sender === undefined ? {} : { sender }), rcpts }, callback, () => super.handler_DATA(command, callback));
  }

  private refuseArguments(name: string, command: Buffer): boolean {
    if (command.toString('latin1').trim().length === name.length) return false;
    this.send(501, `5.5.4 Syntax: ${name}`);
    return true;
  }

  /** RFC 5321 §4.5.1 asks for VRFY; like Postfix, it never tells a user from a non-user. */
  override handler_VRFY(command: Buffer, callback: () => void): void {
    if (!command.toString().trim().split(/\s+/u)[1]) this.send(501, '5.5.4 Error: Syntax: VRFY address');
    else this.send(252, '2.0.0 Cannot VRFY user, but will accept message and attempt delivery');
    callback();
  }

  /** Mailing lists are not expanded (Postfix with disable_vrfy_command says the same). */
  handler_EXPN(_command: Buffer, callback: () => void): void {
    this.send(502, '5.5.1 EXPN command is disabled');
    callback();
  }

  /** `555 5.5.4 Unsupported option: X` (Postfix) for a parameter the listener does not implement. */
  private refuseParameters(name: 'mail from' | 'rcpt to', command: Buffer, allowed: readonly string[]): boolean {
    const parsed = this._parseAddressCommand(name, command);
    if (!parsed || !parsed.args) return false;
    const words = command.toString('latin1').split(':').slice(1).join(':').trim().split(/\s+/u).slice(1);
    for (const word of words) {
      const key = (word.split('=')[0] ?? '').toUpperCase();
      if (key !== '' && !allowed.includes(key)) {
        this.send(555, `5.5.4 Unsupported option: ${word}`);
        return true;
      }
    }
    return false;
  }
  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.answerHelo(command, callback, (line, done) => super.handler_EHLO(line, done));
  }

  override handler_HELO(command: Buffer, callback: () => void): void {
    this.answerHelo(command, callback, (line, done) => super.handler_HELO(line, done));
  }

  override handler_AUTH(command: Buffer, callback: () => void): void {
    if (this.extras.authOnlyOverTls && !this.secure) {
      this.send(530, '5.7.0 Must issue a STARTTLS command first');
      callback();
      return;
    }
    const initial = command.toString('latin1').trim().split(/\s+/u)[2];
    if (initial !== undefined && !this.session.user && !isBase64Response(initial)) {
      this.send(501, '5.5.2 Cannot decode response');
      callback();
      return;
    }
    this.chaos('auth', {}, callback, () => super.handler_AUTH(command, callback));
  }

  private answerHelo(command: Buffer, callback: () => void, answer: Handler): void {
    const extras = this.extras;
    this.chaos('helo', {}, callback, () => {
      if (!extras.authOnlyOverTls || this.secure) {
        answer(command, callback);
        return;
      }
      // EHLO reads the session's disabled commands while it lists the extensions, synchronously.
      const saved = this.session.disabledCommands;
      this.session.disabledCommands = [...(this._server.options.disabledCommands ?? []), 'AUTH'];
      try {
        answer(command, callback);
      } finally {
        this.session.disabledCommands = saved;
      }
    });
  }
}

export class MtaSmtpServer extends SMTPServer {
  readonly extras: MtaServerExtras;

  constructor(options: SMTPServerOptions, extras: MtaServerExtras) {
    super(options);
    this.extras = extras;
    // smtp-server passes a connection's socket error in the middle of a transaction (a client
    // that resets after MAIL FROM) on to the server's 'error' event; unheard, it ends the process.
    this.on('error', (error: NodeJS.ErrnoException) => extras.logger.warn({ err: error, client: (error as { remoteAddress?: string }).remoteAddress }, `client connection error: ${error.code ?? error.message}`));
  }

  /** Same as SMTPServer.connect, with our connection class. */
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const start = (): void => {
      socket.off('error', ignore);
      const connection = new MtaConnection(this, socket, socketOptions);
      this.connections.add(connection);
      connection.on('error', (error: Error) => this._onError(error));
      connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
      connection.init();
    };
    // The `connect` stage: a refusal is the greeting a refusing server sends (RFC 5321 §3.1), then the close.
    // Until the connection owns the socket, a reset from the client must not go unhandled.
    const ignore = (): void => undefined;
    socket.on('error', ignore);
    runChaos(this.extras.chaos, 'connect', { client: clientAddress(socket.remoteAddress) }, this.extras.logger, {
      proceed: start,
      reply: (code, text) => socket.end(`${code} ${text}\r\n`),
      drop: () => socket.destroy(),
    });
  }
}
