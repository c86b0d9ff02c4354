/**
 * What every listener shares: its dependencies, smtp-server options (limits, TLS,
 * greeting, logging) and the onConnect/onClose handlers (connections per address; the
 * fault plan's `connect` stage runs in connection.ts). The MX and submission modules add their own MAIL/RCPT/AUTH rules.
 */
import type { AuthPenalty } from '../../../shared/auth-penalty.ts';
import type { SMTPServerOptions } from 'smtp-server';
import type { Logger } from '../../../shared/log.ts';
import type { TlsFiles } from '../../../shared/tls.ts';
import type { MtaAuth } from '../auth/mta-auth.ts';
import type { Queue } from '../queue/types.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import type { CallerSettings } from './caller-client.ts';
import type { ChaosEngine } from './chaos.ts';
import {
  IDLE_TIMEOUT_MS,
  MAX_CLIENTS,
  MAX_COMMAND_LINE_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_UNAUTHENTICATED_COMMANDS,
} from './limits.ts';
import type { MailPolicy } from './policy.ts';
import type { ResendGuard } from './resend.ts';
import { replyError } from './replies.ts';
import { settle, type ConnectionCounter, type ListenerKind } from './session.ts';

export interface ListenerDeps {
  /** MTA_NAME */
  name: string;
  /** MTA_HOSTNAME: greeting, Received. */
  hostname: string;
  tls: TlsFiles;
  policy: MailPolicy;
  queue: Queue;
  chaos: ChaosEngine;
  throttle: AuthThrottle;
  /** Delays attempts after failures per client address, counted before the check. */
  penalty: AuthPenalty;
  connections: ConnectionCounter;
  caller?: CallerSettings;
  /** DKIM signing (submission) and SPF/DKIM/DMARC/ARC checks (MX). */
  auth?: MtaAuth;
  logger: Logger;
  /** Overrides MAX_MESSAGE_BYTES (tests). */
  maxMessageBytes?: number;
  /** Submission: true when a recipient's domain publishes a null MX (routing/null-mx.ts). */
  nullMx?: (domain: string) => Promise<boolean>;
  /** Resent transactions of the lab's MTAs (MX listener only). */
  resend?: ResendGuard;
}

/** smtp-server's logger interface is bunyan's, which pino implements. */
type ExternalLogger = Exclude<SMTPServerOptions['logger'], boolean | undefined>;

/**
 * smtp-server's own lines (every connect and close at info, C:/S: traffic at debug) go to
 * debug; our handlers log the decisions at info. Its errors stay errors.
 */
function libraryLogger(logger: Logger): ExternalLogger {
  const lib = logger.child({ component: 'smtp-server' });
  return {
    trace: lib.trace.bind(lib),
    debug: lib.debug.bind(lib),
    info: lib.debug.bind(lib),
    warn: lib.warn.bind(lib),
    error: lib.error.bind(lib),
    fatal: lib.fatal.bind(lib),
  };
}

export function commonOptions(deps: ListenerDeps, kind: ListenerKind): SMTPServerOptions {
  const logger = deps.logger.child({ listener: kind });
  return {
    name: deps.hostname,
    banner: `mxlab ${deps.name}`,
    key: deps.tls.key,
    cert: deps.tls.cert,
    minVersion: 'TLSv1.2',
    size: deps.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    maxCommandLength: MAX_COMMAND_LINE_BYTES,
    maxClients: MAX_CLIENTS,
    maxAllowedUnauthenticatedCommands: MAX_UNAUTHENTICATED_COMMANDS,
    socketTimeout: IDLE_TIMEOUT_MS,
    // The lab answers from its own DNS only; never ask the host's resolver for PTRs.
    disableReverseLookup: true,
    // Advertised only what the queue and delivery carry through: no SMTPUTF8 (RFC 6531),
    // no DSN NOTIFY/RET/ENVID (RFC 3461), no REQUIRETLS (RFC 8689); their parameters get 555.
    hideSMTPUTF8: true,
    hideDSN: true,
    hideREQUIRETLS: true,
    // RFC 2034: every reply after EHLO carries an RFC 3463 code. Ours carry theirs
    // (replies.ts); MtaConnection corrects the library's where its table is wrong.
    hideENHANCEDSTATUSCODES: false,
    // The sendmail jokes (WIZ, SHELL, KILL) and the proxy commands are unknown commands here.
    disabledCommands: ['WIZ', 'SHELL', 'KILL', 'XCLIENT', 'XFORWARD'],
    authRequiredMessage: '5.7.0 Authentication required',
    logger: libraryLogger(logger),
    onConnect(session, callback) {
      const log = logger.child({ conn: session.id, client: session.remoteAddress });
      settle(callback, log, async () => {
        if (!deps.connections.admit(session)) throw replyError('tooManyConnections');
        log.info({ tls: session.secure }, 'connection');
      });
    },
    onClose(session) {
      deps.connections.release(session);
    },
  };
}
