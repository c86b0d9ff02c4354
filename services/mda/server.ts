/**
 * The MDA: an LMTP server (RFC 2033, smtp-server with `lmtp: true`) that writes each
 * message into each recipient's Maildir and answers once per recipient after DATA, 250
 * only once the message is fsync'd. Unknown users and foreign domains are refused at RCPT.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { parseAddress } from '../../shared/address.ts';
import { connectionId, createLogger, type Logger } from '../../shared/log.ts';
import { buildReceived } from '../../shared/received.ts';
import { withOnlyDeliveringVerdict } from '../../shared/verdict-fields.ts';
import { UserDirectory } from '../../shared/users.ts';
import type { MdaConfig } from './config.ts';
import { readHeader } from '../../shared/message/headers.ts';
import { deliveryHeaders, withCrlf, isSpamFlagged, messageIdOf, queueIdOf } from './headers.ts';
import { deliverToMaildir } from '../../shared/maildir/deliver.ts';
import { traceIdOf, transactionKey } from '../../shared/trace-id.ts';
import { finishPending, openMdaTransactionLog } from './resend.ts';

/** Largest message accepted (advertised as SIZE, RFC 1870); larger ones get 552 per recipient. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for the next command. */
export const SOCKET_TIMEOUT_MS = 5 * 60_000;
/** How long close() waits for open LMTP sessions before cutting them. */
export const CLOSE_TIMEOUT_MS = 5_000;

/** Folder for `X-Spam-Flag: YES` mail (issue 6, item 4). */
export const JUNK_FOLDER = 'Junk';

/** smtp-server turns `responseCode` into the reply and adds the enhanced code of its table. */
class LmtpReply extends Error {
  readonly responseCode: number;

  constructor(responseCode: number, message: string) {
    super(message);
    this.responseCode = responseCode;
  }
}

export interface MdaDeps {
  users?: UserDirectory;
  logger?: Logger;
}

export interface RunningMda {
  lmtp: AddressInfo[];
  close(): Promise<void>;
}

async function readMessage(stream: SMTPServerDataStream): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_MESSAGE_BYTES) chunks.push(buffer);
  }
  return stream.sizeExceeded || size > MAX_MESSAGE_BYTES ? undefined : withCrlf(Buffer.concat(chunks));
}

export async function startMda(config: MdaConfig, deps: MdaDeps = {}): Promise<RunningMda> {
  const users = deps.users ?? new UserDirectory(config.usersDir);
  const logger = deps.logger ?? createLogger(config.name, config.logLevel);
  const domains = new Set(config.domains);
  const transactions = await openMdaTransactionLog({ mailRoot: config.mailRoot, name: config.name, windowMs: config.resendWindowMs, maxKeys: config.resendMaxKeys });

  async function checkRecipient(address: string): Promise<LmtpReply | { domain: string; local: string }> {
    const parsed = parseAddress(address);
    if (!parsed.ok) return new LmtpReply(553, `<${address}>: mailbox name not allowed (${parsed.reason})`);
    if (!domains.has(parsed.address.domain)) return new LmtpReply(550, `<${address}>: domain not delivered here`);
    const account = await users.resolve(parsed.address.canonical);
    if (!account) return new LmtpReply(550, `<${address}>: no such user here`);
    return { domain: account.domain, local: account.local };
  }

  async function deliverOne(
    message: Buffer,
    rcpt: SMTPServerAddress,
    session: SMTPServerSession,
    trace: { id: string; spam: boolean; log: Logger; sender?: { by: string; id: string } },
  ): Promise<string | LmtpReply> {
    const target = await checkRecipient(rcpt.address);
    if (target instanceof LmtpReply) return target;
    if (!trace.sender) return writeOne(message, rcpt, session, trace, target);
    // The MTA's transaction: a resend after a lost reply is answered, not written again (resend.ts).
    const key = transactionKey(trace.sender, `${target.local}@${target.domain}`);
    return transactions.exclusive([key], async () => {
      const seen = transactions.get(key);
      if (!seen) return writeOne(message, rcpt, session, trace, target, key);
      const how = await finishPending(seen);
      if (how === 'missing') return writeOne(message, rcpt, session, trace, target, key);
      trace.log.info({ event: 'resend.recognised', rcpt: rcpt.address, finished: how === 'finished' }, 'transaction sent again after a lost reply: not written twice');
      return seen.reply;
    });
  }

  async function writeOne(
    message: Buffer,
    rcpt: SMTPServerAddress,
    session: SMTPServerSession,
    trace: { id: string; spam: boolean; log: Logger },
    target: { domain: string; local: string },
    key?: string,
  ): Promise<string | LmtpReply> {
    const deliveredTo = parseAddress(rcpt.address);
    const received = buildReceived({
      helo: session.hostNameAppearsAs,
      clientAddress: session.remoteAddress,
      by: config.hostname,
      software: `mxlab ${config.name}`,
      protocol: 'LMTP',
      id: trace.id,
      for: rcpt.address,
    });
    const headers = deliveryHeaders({
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      deliveredTo: deliveredTo.ok ? deliveredTo.address.canonical : rcpt.address,
      received,
    });
    const folder = trace.spam ? JUNK_FOLDER : undefined;
    const log = trace.log.child({ rcpt: rcpt.address, mailbox: `${target.local}@${target.domain}` });
    const reply = `<${rcpt.address}> delivered to ${folder ?? 'INBOX'} as ${trace.id}`;
    try {
      const result = await deliverToMaildir({
        ...(key === undefined ? {} : { beforeRename: (from: string, to: string) => transactions.remember([{ key, reply, pending: { from, to } }]) }),
        root: config.mailRoot,
        domain: target.domain,
        local: target.local,
        folder,
        message: Buffer.concat([headers, message]),
        hostname: config.hostname,
      });
      log.info({ folder: folder ?? 'INBOX', file: result.uniqueName, size: result.size }, 'delivered');
      return reply;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const full = code === 'ENOSPC' || code === 'EDQUOT';
      log.error({ err: error }, full ? 'delivery failed: the mail volume is full' : 'delivery failed');
      // A temporary failure either way (the MTA keeps the message and retries); nothing is left in tmp/.
      return new LmtpReply(451, `<${rcpt.address}>: ${full ? 'insufficient system storage' : 'local error in processing'}, try again later`);
    }
  }

  async function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<(string | LmtpReply)[] | LmtpReply> {
    const received = await readMessage(stream);
    // smtp-server answers 552 for every recipient itself when the size was exceeded
    if (!received) return new LmtpReply(552, 'message too big');
    // Only the delivering MTA's own verdict counts (shared/verdict-fields.ts).
    const message = withOnlyDeliveringVerdict(received);
    const fields = readHeader(message);
    const id = connectionId();
    const log = logger.child({ conn: session.id, lmtpId: id, queueId: queueIdOf(fields), messageId: messageIdOf(fields) });
    const sender = traceIdOf(message);
    const trace = { id, spam: isSpamFlagged(fields), log, ...(sender ? { sender } : {}) };
    const results: (string | LmtpReply)[] = [];
    for (const rcpt of session.envelope.rcptTo) results.push(await deliverOne(message, rcpt, session, trace));
    return results;
  }

  const servers: SMTPServer[] = [];
  const bound: AddressInfo[] = [];

  async function closeAll(): Promise<void> {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await transactions.close();
  }

  try {
    for (const at of config.lmtpListen) {
      const server = new SMTPServer({
        lmtp: true,
        name: config.hostname,
        banner: `mxlab ${config.name}`,
        logger: false,
        authOptional: true,
        disabledCommands: ['AUTH', 'STARTTLS'],
        hideENHANCEDSTATUSCODES: false,
        size: MAX_MESSAGE_BYTES,
        socketTimeout: SOCKET_TIMEOUT_MS,
        closeTimeout: CLOSE_TIMEOUT_MS,
        onConnect(session, callback) {
          // Only the lab's MTAs write into mailboxes (issue 19, item 4): MDA_LMTP_CLIENTS.
          if (config.lmtpClients.allows(session.remoteAddress)) return callback();
          logger.warn({ event: 'lmtp.refused', client: session.remoteAddress }, 'LMTP client is not one of the lab MTAs');
          callback(new LmtpReply(554, '5.7.1 LMTP is only for the lab MTAs; this address is not in MDA_LMTP_CLIENTS'));
        },
        onRcptTo(address, _session, callback) {
          checkRecipient(address.address).then(
            (result) => callback(result instanceof LmtpReply ? result : undefined),
            (error: unknown) => {
              logger.error({ err: error, rcpt: address.address }, 'recipient lookup failed');
              callback(new LmtpReply(451, 'temporary failure looking up the recipient'));
            },
          );
        },
        onData(stream, session, callback) {
          onData(stream, session).then(
            // in LMTP mode smtp-server takes an array: one reply per accepted recipient, in order
            (result) => (result instanceof LmtpReply ? callback(result) : callback(null, result as unknown as string)),
            (error: unknown) => {
              logger.error({ err: error, conn: session.id }, 'DATA failed');
              stream.resume();
              callback(new LmtpReply(451, 'local error in processing, try again later'));
            },
          );
        },
      });
      servers.push(server);
      bound.push(await listen(server, at.host, at.port));
      server.on('error', (error) => logger.error({ err: error }, 'LMTP server error'));
      logger.info({ listen: `${at.host}:${bound[bound.length - 1]?.port}` }, 'LMTP listening');
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  return { lmtp: bound, close: closeAll };
}

function listen(server: SMTPServer, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'the port is already taken' : error.message;
      reject(new Error(`LMTP cannot listen on ${host}:${port}: ${reason}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.server.address() as AddressInfo);
    });
  });
}
