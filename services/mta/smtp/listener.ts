/**
 * The TCP side of one SMTP listener: binds `host:port`, runs the pregreet test where it
 * is given one (the MX port: a new client that talks before our greeting gets 554 and
 * is dropped, one that passed is greeted at once for a day, as with Postfix
 * postscreen), then hands the socket to smtp-server. Owns shutdown: stop
 * accepting, let sessions finish for CLOSE_TIMEOUT_MS, then say 421 and close them.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { HostPort } from '../../../shared/config.ts';
import { connectionId, type Logger } from '../../../shared/log.ts';
import type { MtaSmtpServer } from './connection.ts';
import { CLOSE_TIMEOUT_MS } from './limits.ts';
import type { PregreetCache } from './pregreet.ts';
import { formatReply, REPLIES } from './replies.ts';
import type { ListenerKind } from './session.ts';

/** How long a refused client may take to read our last line before its socket is destroyed. */
const REFUSAL_LINGER_MS = 2_000;

export interface ListenerHandle {
  kind: ListenerKind;
  address: AddressInfo;
  close(): Promise<void>;
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

export async function openListener(options: {
  kind: ListenerKind;
  listen: HostPort;
  smtp: MtaSmtpServer;
  logger: Logger;
  /** The MX port's pregreet test; absent (submission: clients authenticate) = greet at once. */
  pregreet?: PregreetCache;
}): Promise<ListenerHandle> {
  const { kind, smtp, logger, pregreet } = options;
  const sockets = new Set<Socket>();

  const afterWait = (socket: Socket, id: string): void => {
    if (socket.destroyed) return;
    if (socket.readableLength > 0) {
      pregreet?.fail(socket.remoteAddress);
      logger.warn({ conn: id, client: socket.remoteAddress, bytes: socket.readableLength }, 'early talker refused');
      socket.end(`${formatReply(REPLIES.earlyTalker)}\r\n`);
      setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
      return;
    }
    pregreet?.pass(socket.remoteAddress);
    smtp.connect(socket, { id });
  };

  const server = createServer((socket) => {
    const id = connectionId();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', (error) => logger.debug({ conn: id, err: error }, 'socket error'));
    const waitMs = pregreet?.waitFor(socket.remoteAddress) ?? 0;
    if (waitMs === 0) smtp.connect(socket, { id });
    else setTimeout(() => afterWait(socket, id), waitMs);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const where = `${options.listen.host}:${options.listen.port}`;
      const why = error.code === 'EADDRINUSE' ? 'address already in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new ListenError(`MTA ${kind} listener cannot listen on ${where}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => logger.error({ err: error, listener: kind }, 'listener error'));
  const address = server.address() as AddressInfo;
  logger.info({ listener: kind, host: address.address, port: address.port }, 'listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      smtp.close();
      const deadline = Date.now() + CLOSE_TIMEOUT_MS;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const connection of smtp.connections) connection.send(421, '4.3.2 Server shutting down');
      for (const socket of sockets) socket.destroy();
      await stopped;
    })();
    return closing;
  };
  return { kind, address, close };
}
