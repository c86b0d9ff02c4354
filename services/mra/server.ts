/**
 * The MRA agent: IMAP (STARTTLS and implicit TLS) and POP3 (STLS and implicit TLS) over
 * the same Maildir++ store (POP3 is a view of its INBOX). `startMra` is what main.ts and the tests call.
 */
import type { AddressInfo } from 'node:net';
import { AuthPenalty } from '../../shared/auth-penalty.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { ensureServerCertificate } from '../../shared/tls.ts';
import { UserDirectory } from '../../shared/users.ts';
import type { MraConfig } from './config.ts';
import { createImapServer } from './imap/server.ts';
import { createPop3Server } from './pop3/server.ts';
import { MaildirStore } from './store/maildir-store.ts';

export interface MraDeps {
  logger?: Logger;
  users?: UserDirectory;
  /** Base delay after a failed IMAP login (tests make it short). */
  authFailureDelayMs?: number;
  /** The auth penalty IMAP and POP3 share (tests give short delays). */
  penalty?: AuthPenalty;
  /** IMAP inactivity limits (tests make them short). */
  imapTimeouts?: { autologoutMs: number; preauthMs: number; loginDeadlineMs?: number };
  /** IMAP connections not logged in per client address (imap/prelogin.ts; tests make it small). */
  preloginPerAddress?: number;
}

export interface RunningMra {
  close(): Promise<void>;
  imap: AddressInfo[];
  imaps: AddressInfo[];
  pop3: AddressInfo[];
  pop3s: AddressInfo[];
}

export async function startMra(config: MraConfig, deps: MraDeps = {}): Promise<RunningMra> {
  const logger = deps.logger ?? createLogger(config.MRA_NAME, config.LOG_LEVEL);
  const users = deps.users ?? new UserDirectory(config.MXLAB_USERS_DIR);
  const tls = await ensureServerCertificate(config.MXLAB_TLS_DIR, config.MRA_NAME, [config.MRA_HOSTNAME, ...config.MRA_TLS_NAMES]);
  const store = new MaildirStore(config.MXLAB_MAIL_ROOT, logger);
  // One penalty per client address for IMAP and POP3 alike (shared/auth-penalty.ts).
  const penalty = deps.penalty ?? new AuthPenalty();
  const imapServer = createImapServer({
    users,
    store,
    domains: config.MRA_DOMAINS,
    hostname: config.MRA_HOSTNAME,
    tls: { cert: tls.cert, key: tls.key },
    allowPlaintextAuth: config.MRA_ALLOW_PLAINTEXT_AUTH,
    logger: logger.child({ proto: 'imap' }),
    penalty,
    trustedNetworks: config.MRA_TRUSTED_NETWORKS,
    ...(deps.authFailureDelayMs === undefined ? {} : { authFailureDelayMs: deps.authFailureDelayMs }),
    ...(deps.imapTimeouts === undefined ? {} : { timeouts: deps.imapTimeouts }),
    ...(deps.preloginPerAddress === undefined ? {} : { preloginPerAddress: deps.preloginPerAddress }),
  });
  const pop3Server = createPop3Server({
    users,
    store,
    mailRoot: config.MXLAB_MAIL_ROOT,
    lock: config.MRA_POP3_LOCK,
    hostname: config.MRA_HOSTNAME,
    tls: { cert: tls.cert, key: tls.key },
    allowPlaintextAuth: config.MRA_ALLOW_PLAINTEXT_AUTH,
    domains: config.MRA_DOMAINS,
    logger: logger.child({ proto: 'pop3' }),
    penalty,
  });
  const close = async () => {
    await Promise.all([imapServer.close(), pop3Server.close()]);
    await store.close();
  };
  try {
    const imap = await Promise.all(config.MRA_IMAP_LISTEN.map((at) => imapServer.listen(at, { implicitTls: false })));
    const imaps = await Promise.all(config.MRA_IMAPS_LISTEN.map((at) => imapServer.listen(at, { implicitTls: true })));
    const pop3 = await Promise.all(config.MRA_POP3_LISTEN.map((at) => pop3Server.listen(at, { implicitTls: false })));
    const pop3s = await Promise.all(config.MRA_POP3S_LISTEN.map((at) => pop3Server.listen(at, { implicitTls: true })));
    return { close, imap, imaps, pop3, pop3s };
  } catch (error) {
    await close();
    throw error;
  }
}
