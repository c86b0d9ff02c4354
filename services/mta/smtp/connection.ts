/**
 * smtp-server, with the two things its options cannot express, in one subclass of its
 * connection: (1) on submission, AUTH is advertised only once TLS protects the password
 * (RFC 4954 §4, Postfix smtpd_tls_auth_only) and AUTH before TLS is answered
 * `530 5.7.0 Must issue a STARTTLS command first`; (2) the chaos rule of the
 * `helo` stage, since smtp-server has no HELO hook.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ChaosControl } from './chaos.ts';

export interface MtaServerExtras {
  chaos: ChaosControl;
  /** Leave AUTH out of EHLO until the session is encrypted. */
  authOnlyOverTls: boolean;
}

type Handler = (command: Buffer, callback: () => void) => void;

class MtaConnection extends SMTPConnection {
  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.answerHelo(command, callback, (line, done) => super.handler_EHLO(line, done));
  }

  override handler_HELO(command: Buffer, callback: () => void): void {
    this.answerHelo(command, callback, (line, done) => super.handler_HELO(line, done));
  }

  override handler_AUTH(command: Buffer, callback: () => void): void {
    if ((this._server as MtaSmtpServer).extras.authOnlyOverTls && !this.secure) {
      this.send(530, '5.7.0 Must issue a STARTTLS command first');
      callback();
      return;
    }
    super.handler_AUTH(command, callback);
  }

  private answerHelo(command: Buffer, callback: () => void, answer: Handler): void {
    const extras = (this._server as MtaSmtpServer).extras;
    const action = extras.chaos.action('helo');
    const proceed = (): void => {
      if (action?.reply) {
        this.send(action.reply.code, `${action.reply.enhanced} ${action.reply.text}`);
        callback();
        return;
      }
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
    };
    if (action && action.delayMs > 0) setTimeout(proceed, action.delayMs);
    else proceed();
  }
}

export class MtaSmtpServer extends SMTPServer {
  readonly extras: MtaServerExtras;

  constructor(options: SMTPServerOptions, extras: MtaServerExtras) {
    super(options);
    this.extras = extras;
  }

  /** Same as SMTPServer.connect, with our connection class. */
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new MtaConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (error: Error) => this._onError(error));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}
