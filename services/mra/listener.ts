/**
 * The listener base of the MRA's line protocols (IMAP, POP3): plain listeners and
 * implicit-TLS ones (993, 995) whose handshake must finish in time, one connection
 * limit over all of a server's listeners, no Nagle delay, and one close that asks every
 * session to say goodbye and then drops what is left. A protocol gives what differs:
 * how a session starts, how a connection over the limit is refused.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { HostPort } from '../../shared/config.ts';
import type { Logger } from '../../shared/log.ts';

/** Open connections per server (all its listeners) before new ones are refused. */
export const MAX_CONNECTIONS = 500;
/** An implicit-TLS client that has not finished its handshake by then is dropped. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 60_000;
/** After the goodbye of a shutdown, a socket still open is destroyed this much later. */
const SHUTDOWN_GRACE_MS = 2_000;

/** What the base needs of a session. */
export interface LineSession {
  /** Server shutdown: say goodbye (IMAP `* BYE`) and close; resolves once the session let go of its mailbox. */
  shutdown(): Promise<void>;
}

export interface LineProtocol {
  /** `imap`, `pop3`: in log lines and listen errors. */
  name: string;
  secureContext: SecureContext | undefined;
  logger: Logger;
  /** Starts a session on a new connection (`secure`: implicit TLS, handshake done). */
  start(socket: Socket, secure: boolean): LineSession;
  /** The line a connection over the limit gets before it is closed. */
  tooMany: string;
  /** Defaults: MAX_CONNECTIONS, TLS_HANDSHAKE_TIMEOUT_MS (tests make them small). */
  maxConnections?: number;
  handshakeTimeoutMs?: number;
}

export interface LineServer {
  listen(at: HostPort, options: { implicitTls: boolean }): Promise<AddressInfo>;
  /** Connections open now (sessions and implicit-TLS handshakes). */
  connections(): number;
  close(): Promise<void>;
}

export function createLineServer(protocol: LineProtocol): LineServer {
  const { logger, secureContext, name } = protocol;
  const maxConnections = protocol.maxConnections ?? MAX_CONNECTIONS;
  const servers = new Set<Server>();
  /** Every accepted socket, with its session once there is one. */
  const open = new Map<Socket, LineSession | undefined>();
  let closing = false;

  function begin(raw: Socket, stream: Socket, secure: boolean): void {
    if (closing || raw.destroyed) return;
    open.set(raw, protocol.start(stream, secure));
  }

  function accept(socket: Socket, implicitTls: boolean): void {
    socket.on('error', (error) => logger.debug({ err: error }, 'socket error'));
    if (open.size >= maxConnections || closing) {
      socket.end(protocol.tooMany);
      socket.setTimeout(SHUTDOWN_GRACE_MS, () => socket.destroy());
      return;
    }
    open.set(socket, undefined);
    socket.once('close', () => open.delete(socket));
    if (!implicitTls || !secureContext) {
      begin(socket, socket, false);
      return;
    }
    const secure = new TLSSocket(socket, { isServer: true, secureContext });
    secure.setTimeout(protocol.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS, () => secure.destroy());
    secure.once('secure', () => {
      secure.setTimeout(0);
      begin(socket, secure, true);
    });
    secure.on('error', (error) => {
      logger.debug({ err: error, remote: socket.remoteAddress }, 'TLS handshake failed');
      secure.destroy();
    });
  }

  return {
    listen(at, { implicitTls }) {
      const label = `${name.toUpperCase()}${implicitTls ? ' (implicit TLS)' : ''}`;
      if (implicitTls && !secureContext) return Promise.reject(new Error(`${label} on ${at.host}:${at.port} needs a TLS certificate`));
      // No Nagle: a reply written after a client's request must not wait for a delayed ACK.
      const server = createServer({ noDelay: true }, (socket) => accept(socket, implicitTls));
      return new Promise((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => {
          const reason = error.code === 'EADDRINUSE' ? 'the port is already taken' : error.message;
          reject(new Error(`${label} cannot listen on ${at.host}:${at.port}: ${reason}`, { cause: error }));
        });
        server.listen(at.port, at.host, () => {
          servers.add(server);
          server.removeAllListeners('error');
          server.on('error', (error) => logger.error({ err: error }, `${name} listener error`));
          const address = server.address() as AddressInfo;
          logger.info({ listen: `${address.address}:${address.port}`, implicitTls }, `${name} listening`);
          resolve(address);
        });
      });
    },

    connections: () => open.size,

    async close() {
      closing = true;
      const stopped = [...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      servers.clear();
      const sockets = [...open.keys()];
      const gone = sockets.map((socket) => (socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()))));
      await Promise.all(
        [...open.values()].map((session) => session?.shutdown().catch((error: unknown) => logger.debug({ err: error }, 'shutdown failed'))),
      );
      for (const socket of sockets) socket.destroy();
      await Promise.all([...stopped, ...gone]);
    },
  };
}
