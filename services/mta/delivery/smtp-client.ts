/**
 * One SMTP or LMTP transaction to one address, with nodemailer's SMTPConnection, and the
 * per-recipient result of it. Connections are kept open for a few seconds after a
 * successful transaction and reused for the next message to the same destination.
 * Outbound STARTTLS is opportunistic (RFC 3207 §4 / RFC 7435): used when offered, the
 * peer verified against the lab CA; a failed handshake is retried once in plain text.
 */
import { isAscii } from 'node:buffer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionOptions, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection';
import type { NodemailerError } from 'nodemailer/lib/errors';
import type { Logger } from '../../../shared/log.ts';
import { cleanReply, isPermanentCode, outcomeFromReply, type RecipientOutcome } from './outcome.ts';

/** A kept connection is closed after this long without a new message. */
export const IDLE_REUSE_MS = 5_000;

export interface Destination {
  /** IP address to connect to. */
  address: string;
  port: number;
  /** Exchange name: TLS server name and the name shown in logs and DSNs. */
  exchange: string;
  lmtp: boolean;
  /**
   * A TLS fault from the fault plan (issue 16): `wrong-name` verifies the peer against a
   * name its certificate does not carry, `none` acts as if STARTTLS were not offered.
   */
  tlsFault?: 'wrong-name' | 'none';
}

/** The name a `wrong-name` fault verifies the peer's certificate against. */
export const WRONG_TLS_NAME = 'wrong-name.invalid';

export interface ClientSettings {
  /** EHLO/LHLO name: this MTA's hostname. */
  name: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Lab CA (PEM) to verify STARTTLS peers; absent = encrypt without verifying. */
  tlsCa?: string;
  /**
   * Source address of every connection. In the no-Docker lab each MTA has its own
   * loopback address, and the next hop must see it (Received, SPF) rather than 127.0.0.1.
   */
  localAddress?: string;
}

/** The result of one attempt at one address. */
export type HostResult =
  /** The peer took part in a transaction: one outcome per recipient. */
  | { kind: 'transaction'; outcomes: RecipientOutcome[]; tls?: boolean }
  /** Nothing was decided per recipient: refused, timeout, garbage, or a reply for the whole message. */
  | { kind: 'failed'; permanent: boolean; reply: string; enhanced: string };

const TRANSACTION_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA']);

function describe(destination: Destination): string {
  return `${destination.exchange} [${destination.address}]:${destination.port}`;
}

function connect(options: SMTPConnectionOptions): Promise<SMTPConnection> {
  return new Promise((resolve, reject) => {
    const connection = new SMTPConnection(options);
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      connection.close();
      reject(error);
    };
    connection.once('error', fail);
    connection.connect((error) => {
      if (error) return fail(error);
      settled = true;
      connection.off('error', fail);
      // Later socket errors surface through send(); this keeps them from being unhandled.
      connection.on('error', () => undefined);
      resolve(connection);
    });
  });
}

function send(connection: SMTPConnection, from: string, to: string[], message: Buffer): Promise<SMTPConnectionSendInfo> {
  return new Promise((resolve, reject) => {
    const envelope = { from: from === '' ? false : from, to, size: message.length, use8BitMime: !isAscii(message) } as const;
    connection.send(envelope, message, (error, info) => {
      if (error || info === undefined) reject(error ?? new Error('no send result'));
      else resolve(info);
    });
  });
}

/** Turns nodemailer's send error into per-recipient outcomes or a whole-message failure. */
export function resultFromError(error: NodemailerError, recipients: string[], remoteMta: string): HostResult {
  const rejected = error.rejectedErrors ?? [];
  if (error.command === 'RCPT TO' && rejected.length > 0) {
    return {
      kind: 'transaction',
      outcomes: recipients.map((recipient) => {
        const own = rejected.find((item) => item.recipient === recipient);
        return outcomeFromReply(recipient, own?.response ?? error.response ?? '451 4.0.0 rejected', remoteMta);
      }),
    };
  }
  if (error.code === 'EMESSAGE' && error.responseCode === undefined && /size larger than allowed/iu.test(error.message)) {
    // The peer's EHLO SIZE is smaller than the message: it would refuse it every time (RFC 1870 §6.1).
    return { kind: 'failed', permanent: true, reply: `552 5.3.4 ${remoteMta}: ${cleanReply(error.message)}`, enhanced: '5.3.4' };
  }
  const code = error.responseCode ?? 0;
  const reply = cleanReply(error.response ?? `${error.code ?? 'ERROR'}: ${error.message}`);
  const inTransaction = error.command !== undefined && TRANSACTION_COMMANDS.has(error.command);
  if (inTransaction && code > 0) {
    const outcome = outcomeFromReply('', reply, remoteMta);
    return { kind: 'failed', permanent: isPermanentCode(code), reply: outcome.reply, enhanced: outcome.enhanced };
  }
  return { kind: 'failed', permanent: false, reply: code > 0 ? reply : `451 4.4.1 ${remoteMta}: ${reply}`, enhanced: '4.4.1' };
}

function resultFromInfo(info: SMTPConnectionSendInfo, recipients: string[], remoteMta: string): Extract<HostResult, { kind: 'transaction' }> {
  const rejected = info.rejectedErrors ?? [];
  const accepted = new Set(info.accepted);
  return {
    kind: 'transaction',
    outcomes: recipients.map((recipient) => {
      const own = rejected.find((item) => item.recipient === recipient);
      if (own !== undefined) return outcomeFromReply(recipient, own.response ?? '451 4.0.0 rejected', remoteMta);
      // LMTP answers each recipient, but nodemailer keeps only the last reply's text.
      if (accepted.has(recipient)) return outcomeFromReply(recipient, info.response.startsWith('2') ? info.response : '250 2.0.0 accepted', remoteMta);
      return outcomeFromReply(recipient, '451 4.0.0 no reply for this recipient', remoteMta);
    }),
  };
}

/** Node's certificate errors (SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID…) reach us as ESOCKET. */
const TLS_ERROR_CODE = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/u;

function isTlsFailure(error: NodemailerError): boolean {
  return error.code === 'ETLS' || TLS_ERROR_CODE.test(error.originalCode ?? '');
}

interface IdleConnection {
  connection: SMTPConnection;
  timer: NodeJS.Timeout;
}

export class SmtpClient {
  private readonly settings: ClientSettings;
  private readonly idle = new Map<string, IdleConnection[]>();
  private closed = false;

  constructor(settings: ClientSettings) {
    this.settings = settings;
  }

  private options(destination: Destination, plaintext: boolean): SMTPConnectionOptions {
    const { settings } = this;
    return {
      host: destination.address,
      port: destination.port,
      ...(settings.localAddress === undefined ? {} : { localAddress: settings.localAddress }),
      name: settings.name,
      lmtp: destination.lmtp,
      connectionTimeout: settings.connectTimeoutMs,
      greetingTimeout: settings.commandTimeoutMs,
      socketTimeout: settings.commandTimeoutMs,
      socketCloseTimeout: 0,
      allowInternalNetworkInterfaces: true,
      ignoreTLS: plaintext || destination.lmtp || destination.tlsFault === 'none',
      opportunisticTLS: true,
      tls: {
        servername: destination.tlsFault === 'wrong-name' ? WRONG_TLS_NAME : destination.exchange,
        ...(settings.tlsCa === undefined ? { rejectUnauthorized: false } : { ca: settings.tlsCa }),
      },
      logger: false,
    };
  }

  private key(destination: Destination): string {
    return `${destination.lmtp ? 'lmtp' : 'smtp'}:${destination.address}:${destination.port}`;
  }

  private takeIdle(destination: Destination): SMTPConnection | undefined {
    // A TLS fault is about the handshake: it needs a new connection.
    if (destination.tlsFault !== undefined) return undefined;
    const list = this.idle.get(this.key(destination));
    while (list !== undefined && list.length > 0) {
      const item = list.pop() as IdleConnection;
      clearTimeout(item.timer);
      if (!item.connection.destroyed) return item.connection;
    }
    return undefined;
  }

  private keep(destination: Destination, connection: SMTPConnection): void {
    if (this.closed || destination.tlsFault !== undefined) {
      connection.quit();
      return;
    }
    const key = this.key(destination);
    const list = this.idle.get(key) ?? [];
    const item: IdleConnection = {
      connection,
      timer: setTimeout(() => {
        list.splice(list.indexOf(item), 1);
        connection.quit();
      }, IDLE_REUSE_MS),
    };
    item.timer.unref();
    list.push(item);
    this.idle.set(key, list);
  }

  /** One transaction at one address; never rejects. */
  async deliver(destination: Destination, from: string, to: string[], message: Buffer, logger: Logger): Promise<HostResult> {
    const remoteMta = describe(destination);
    const reused = this.takeIdle(destination);
    if (reused !== undefined) {
      try {
        const info = await send(reused, from, to, message);
        this.keep(destination, reused);
        return { ...resultFromInfo(info, to, remoteMta), tls: reused.secure };
      } catch (error) {
        reused.close();
        const result = resultFromError(error as NodemailerError, to, remoteMta);
        // A kept connection the peer has closed meanwhile: nothing was sent, open a new one.
        if (result.kind !== 'failed' || (error as NodemailerError).responseCode !== undefined) return result;
        logger.debug({ event: 'delivery.reuse-failed', remoteMta }, 'kept connection was closed, reconnecting');
      }
    }
    let plaintext = false;
    for (;;) {
      let connection: SMTPConnection | undefined;
      try {
        connection = await connect(this.options(destination, plaintext));
        const info = await send(connection, from, to, message);
        this.keep(destination, connection);
        return { ...resultFromInfo(info, to, remoteMta), tls: connection.secure };
      } catch (error) {
        connection?.close();
        const failure = error as NodemailerError;
        if (isTlsFailure(failure) && !plaintext && !destination.lmtp) {
          logger.warn({ event: 'delivery.tls-failed', remoteMta, reason: failure.message }, 'STARTTLS failed, retrying in plain text');
          plaintext = true;
          continue;
        }
        return resultFromError(failure, to, remoteMta);
      }
    }
  }

  /** Closes every kept connection. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) {
      for (const item of list) {
        clearTimeout(item.timer);
        item.connection.close();
      }
    }
    this.idle.clear();
  }
}
