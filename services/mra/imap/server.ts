/**
 * The IMAP4rev1 server: listeners (plain with STARTTLS, or implicit TLS) that hand each
 * connection to an ImapConnection with the command table and the mailbox store.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { HostPort } from '../../../shared/config.ts';
import type { Logger } from '../../../shared/log.ts';
import type { MailStore } from '../store/types.ts';
import { IMAP_COMMANDS } from './commands/table.ts';
import { AUTOLOGOUT_MS, ImapConnection, PREAUTH_TIMEOUT_MS, type Authenticator } from './session.ts';

/** Default base of the growing delay after a failed login (RFC 3501 §11 leaves it to us). */
export const AUTH_FAILURE_DELAY_MS = 1000;
/** Simultaneous connections per server before new ones get BYE. */
export const MAX_CONNECTIONS = 500;

export interface ImapServerDeps {
  users: Authenticator;
  store: MailStore;
  /** Accounts of these domains may log in. */
  domains: readonly string[];
  hostname: string;
  tls?: { cert: string; key: string };
  allowPlaintextAuth: boolean;
  logger: Logger;
  authFailureDelayMs?: number;
  /** Defaults: AUTOLOGOUT_MS and PREAUTH_TIMEOUT_MS. */
  timeouts?: { autologoutMs: number; preauthMs: number };
}

export interface ImapServer {
  listen(at: HostPort, options: { implicitTls: boolean }): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createImapServer(deps: ImapServerDeps): ImapServer {
  const secureContext = deps.tls ? createSecureContext({ cert: deps.tls.cert, key: deps.tls.key }) : undefined;
  const servers: Server[] = [];
  const connections = new Set<ImapConnection>();
  const logger = deps.logger;
  const options = {
    hostname: deps.hostname,
    store: deps.store,
    users: deps.users,
    domains: deps.domains,
    tls: secureContext,
    allowPlaintextAuth: deps.allowPlaintextAuth,
    logger,
    authFailureDelayMs: deps.authFailureDelayMs ?? AUTH_FAILURE_DELAY_MS,
    timeouts: deps.timeouts ?? { autologoutMs: AUTOLOGOUT_MS, preauthMs: PREAUTH_TIMEOUT_MS },
    commands: IMAP_COMMANDS,
  };

  function accept(socket: Socket, implicitTls: boolean): void {
    if (connections.size >= MAX_CONNECTIONS) {
      socket.end('* BYE Too many connections\r\n');
      return;
    }
    const stream = implicitTls && secureContext ? new TLSSocket(socket, { isServer: true, secureContext }) : socket;
    const connection = new ImapConnection(stream, options, implicitTls);
    connections.add(connection);
    stream.once('close', () => connections.delete(connection));
    connection.greet().catch((error: unknown) => logger.warn({ err: error }, 'greeting failed'));
  }

  return {
    listen(at, { implicitTls }) {
      if (implicitTls && !secureContext) return Promise.reject(new Error('implicit TLS needs a certificate'));
      // No Nagle: a reply written after a client's request must not wait for a delayed ACK.
      const server = createServer({ noDelay: true }, (socket) => accept(socket, implicitTls));
      servers.push(server);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(at.port, at.host, () => {
          server.off('error', reject);
          server.on('error', (error) => logger.error({ err: error }, 'imap listener error'));
          const address = server.address() as AddressInfo;
          logger.info({ address: address.address, port: address.port, implicitTls }, 'imap listening');
          resolve(address);
        });
      });
    },
    async close() {
      const closing = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      await Promise.all([...connections].map((connection) => connection.shutdown().catch(() => undefined)));
      await Promise.all(closing);
    },
  };
}
