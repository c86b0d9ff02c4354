/**
 * The IMAP4rev1 server: listeners from the line-protocol base (plain with STARTTLS, or
 * implicit TLS) that hand each connection to an ImapConnection with the command table
 * and the mailbox store.
 */
import { PreloginSlots } from './prelogin.ts';
import { AuthPenalty } from '../../../shared/auth-penalty.ts';
import type { ClientList } from '../../../shared/client-list.ts';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { HostPort } from '../../../shared/config.ts';
import type { Logger } from '../../../shared/log.ts';
import { createLineServer } from '../listener.ts';
import type { MailStore } from '../store/types.ts';
import { IMAP_COMMANDS } from './commands/table.ts';
import { AUTOLOGOUT_MS, PREAUTH_TIMEOUT_MS } from './limits.ts';
import { ImapConnection, type Authenticator } from './session.ts';

/** Default base of the growing delay after a failed login (RFC 3501 §11 leaves it to us). */
export const AUTH_FAILURE_DELAY_MS = 1000;

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
  /** Per client address, before the password check (shared/auth-penalty.ts). */
  penalty?: AuthPenalty;
  /** Clients trusted to name the real client in ID (MRA_TRUSTED_NETWORKS). */
  trustedNetworks?: ClientList;
  /** Defaults: AUTOLOGOUT_MS and PREAUTH_TIMEOUT_MS. */
  timeouts?: { autologoutMs: number; preauthMs: number; loginDeadlineMs?: number };
  /** Not-yet-logged-in connections per client address (prelogin.ts; tests make it small). */
  preloginPerAddress?: number;
}

export interface ImapServer {
  listen(at: HostPort, options: { implicitTls: boolean }): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createImapServer(deps: ImapServerDeps): ImapServer {
  const secureContext = deps.tls ? createSecureContext({ cert: deps.tls.cert, key: deps.tls.key }) : undefined;
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
    penalty: deps.penalty ?? new AuthPenalty(),
    ...(deps.trustedNetworks ? { trustedNetworks: deps.trustedNetworks } : {}),
    timeouts: deps.timeouts ?? { autologoutMs: AUTOLOGOUT_MS, preauthMs: PREAUTH_TIMEOUT_MS },
    commands: IMAP_COMMANDS,
  };
  const prelogin = new PreloginSlots(deps.preloginPerAddress);
  return createLineServer({
    name: 'imap',
    secureContext,
    logger,
    tooMany: '* BYE Too many connections\r\n',
    start(socket, secure) {
      const release = prelogin.admit(socket.remoteAddress);
      if (!release) {
        logger.warn({ remote: socket.remoteAddress }, 'too many connections not logged in from one address');
        socket.end('* BYE Too many connections from your address that have not logged in\r\n');
        return { shutdown: async () => void socket.destroy() };
      }
      const connection = new ImapConnection(socket, options, secure, release);
      connection.greet().catch((error: unknown) => logger.warn({ err: error }, 'greeting failed'));
      return connection;
    },
  });
}
