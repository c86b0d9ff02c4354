/**
 * The POP3 server of the MRA (RFC 1939 with RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 SASL
 * PLAIN) over the INBOX of the MRA's mailbox store. Listeners (plain with STLS offered
 * when a certificate is given, or implicit TLS on 995) come from the line-protocol base.
 */
import type { AuthPenalty } from '../../../shared/auth-penalty.ts';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostPort } from '../../../shared/config.ts';
import type { Logger } from '../../../shared/log.ts';
import type { UserDirectory } from '../../../shared/users.ts';
import { createLineServer } from '../listener.ts';
import type { MailStore } from '../store/types.ts';
import type { Pop3Services } from './context.ts';
import { storeMaildrops } from './maildrop.ts';
import { serialize, err } from './replies.ts';
import { Pop3Session } from './session.ts';

export interface Pop3ServerDeps {
  users: UserDirectory;
  /** The store IMAP uses too: POP3 is a view of its INBOX. */
  store: MailStore;
  /** Where the users' Maildirs are (the lock files of `lock`). */
  mailRoot: string;
  /** MRA_POP3_LOCK: RFC 1939 §8's exclusive lock, one session per maildrop at a time. */
  lock?: boolean;
  hostname: string;
  tls?: { cert: string; key: string };
  allowPlaintextAuth: boolean;
  logger: Logger;
  /** MRA_DOMAINS: when given, users of other domains cannot log in here. */
  domains?: readonly string[];
  /** The auth penalty shared with IMAP (shared/auth-penalty.ts). */
  penalty?: AuthPenalty;
}

export interface Pop3Server {
  listen(at: HostPort, options: { implicitTls: boolean }): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createPop3Server(deps: Pop3ServerDeps): Pop3Server {
  const secureContext = deps.tls ? tls.createSecureContext({ cert: deps.tls.cert, key: deps.tls.key }) : undefined;
  const services: Pop3Services = {
    users: deps.users,
    maildrops: storeMaildrops(deps.store, { mailRoot: deps.mailRoot, lock: deps.lock ?? false }),
    hostname: deps.hostname,
    allowPlaintextAuth: deps.allowPlaintextAuth,
    ...(deps.domains ? { domains: new Set(deps.domains.map((domain) => domain.toLowerCase())) } : {}),
    tlsAvailable: secureContext !== undefined,
    delay: (ms) => sleep(ms, undefined, { ref: false }),
    ...(deps.penalty ? { penalty: deps.penalty } : {}),
  };
  const logger = deps.logger.child({ protocol: 'pop3' });
  return createLineServer({
    name: 'pop3',
    secureContext,
    logger,
    tooMany: serialize(err('too many connections, try again later', 'SYS/TEMP')).toString(),
    start(socket, secure) {
      const session = new Pop3Session(socket, { services, logger, secure, secureContext });
      session.start();
      return session;
    },
  });
}
