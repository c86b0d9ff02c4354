/**
 * The POP3 server of the MRA (RFC 1939 with RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 SASL
 * PLAIN) over the users' Maildir++ INBOX. Listeners are plain (STLS offered when a
 * certificate is given) or implicit TLS (port 995).
 */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostPort } from '../../../shared/config.ts';
import type { Logger } from '../../../shared/log.ts';
import type { UserDirectory } from '../../../shared/users.ts';
import type { Pop3Services } from './context.ts';
import { MAX_CONNECTIONS, TLS_HANDSHAKE_TIMEOUT_MS } from './limits.ts';
import { maildirMaildrops } from './maildrop.ts';
import { Pop3Session } from './session.ts';

export interface Pop3ServerDeps {
  users: UserDirectory;
  mailRoot: string;
  hostname: string;
  tls?: { cert: string; key: string };
  allowPlaintextAuth: boolean;
  logger: Logger;
  /** MRA_DOMAINS: when given, users of other domains cannot log in here. */
  domains?: readonly string[];
}

export interface Pop3Server {
  listen(at: HostPort, options: { implicitTls: boolean }): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createPop3Server(deps: Pop3ServerDeps): Pop3Server {
  const secureContext = deps.tls ? tls.createSecureContext({ cert: deps.tls.cert, key: deps.tls.key }) : undefined;
  const services: Pop3Services = {
    users: deps.users,
    maildrops: maildirMaildrops(deps.mailRoot),
    hostname: deps.hostname,
    allowPlaintextAuth: deps.allowPlaintextAuth,
    ...(deps.domains ? { domains: new Set(deps.domains.map((domain) => domain.toLowerCase())) } : {}),
    tlsAvailable: secureContext !== undefined,
    delay: (ms) => sleep(ms, undefined, { ref: false }),
  };
  const logger = deps.logger.child({ protocol: 'pop3' });
  const servers = new Set<net.Server>();
  const sessions = new Set<Pop3Session>();
  /** Every accepted connection, including implicit-TLS ones still in their handshake. */
  const sockets = new Set<net.Socket>();

  function startSession(socket: net.Socket, secure: boolean): void {
    const session = new Pop3Session(socket, { services, logger, secure, secureContext });
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
    session.start();
  }

  function accept(socket: net.Socket, implicitTls: boolean): void {
    if (!implicitTls || !secureContext) {
      startSession(socket, false);
      return;
    }
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
    secure.setTimeout(TLS_HANDSHAKE_TIMEOUT_MS, () => secure.destroy());
    secure.once('secure', () => {
      secure.setTimeout(0);
      startSession(secure, true);
    });
    secure.on('error', (error) => {
      logger.debug({ err: error, remote: socket.remoteAddress }, 'TLS handshake failed');
      secure.destroy();
    });
  }

  return {
    listen(at, options) {
      if (options.implicitTls && !secureContext) {
        return Promise.reject(new Error(`POP3S on ${at.host}:${at.port} needs a TLS certificate`));
      }
      const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        accept(socket, options.implicitTls);
      });
      server.maxConnections = MAX_CONNECTIONS;
      return new Promise((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => {
          const reason = error.code === 'EADDRINUSE' ? 'the port is already taken' : error.message;
          reject(new Error(`POP3${options.implicitTls ? 'S' : ''} cannot listen on ${at.host}:${at.port}: ${reason}`, { cause: error }));
        });
        server.listen(at.port, at.host, () => {
          servers.add(server);
          server.on('error', (error) => logger.error({ err: error }, 'POP3 listener error'));
          const address = server.address() as AddressInfo;
          logger.info({ listen: `${address.address}:${address.port}`, implicitTls: options.implicitTls }, 'POP3 listening');
          resolve(address);
        });
      });
    },

    async close() {
      const closing = [...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      servers.clear();
      const ended = [...sessions].map((session) => session.closed);
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await Promise.all([...closing, ...ended]);
    },
  };
}
