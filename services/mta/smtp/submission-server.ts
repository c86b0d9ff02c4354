/**
 * Submission (RFC 6409): 587 with STARTTLS, 465 with implicit TLS (RFC 8314). AUTH
 * PLAIN/LOGIN only over TLS, failures slowed down and then locked out per client
 * address; MAIL FROM must be one of the user's own addresses; any recipient domain.
 */
import type { SMTPServerOptions } from 'smtp-server';
import { sleep } from './chaos.ts';
import { MtaSmtpServer } from './connection.ts';
import { acceptMessage } from './data.ts';
import { commonOptions, type ListenerDeps } from './common-options.ts';
import { MAX_RECIPIENTS } from './limits.ts';
import { replyError } from './replies.ts';
import { settle } from './session.ts';
import type { Account } from '../../../shared/users.ts';

export function createSubmissionServer(deps: ListenerDeps, options: { implicitTls: boolean }): MtaSmtpServer {
  const kind = options.implicitTls ? 'submissions' : 'submission';
  const logger = deps.logger.child({ listener: kind });
  const tlsMode: SMTPServerOptions = options.implicitTls ? { secure: true, needsUpgrade: true } : {};
  return new MtaSmtpServer(
    {
      ...commonOptions(deps, kind),
      ...tlsMode,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, session, callback) {
        const log = logger.child({ conn: session.id, client: session.remoteAddress });
        settle(callback, log, async () => {
          if (deps.throttle.isLockedOut(session.remoteAddress)) throw replyError('authLockedOut');
          // RFC 4616: an authzid other than the authcid asks to act as someone else; nobody may.
          const actsAsOther = auth.method === 'PLAIN' && !!auth.authzid && !!auth.authcid && auth.authzid.toLowerCase() !== auth.authcid.toLowerCase();
          // Counted before the check (shared/auth-penalty.ts), so parallel guesses queue up.
          const account = await deps.penalty.attempt(session.remoteAddress, async () =>
            actsAsOther ? undefined : deps.policy.authenticate(auth.username ?? '', auth.password ?? ''),
            auth.username,
          );
          if (!account) {
            const { delayMs, lockedOut } = deps.throttle.recordFailure(session.remoteAddress);
            log.warn({ user: auth.username, method: auth.method, delayMs, lockedOut }, 'authentication failed');
            await sleep(delayMs);
            throw replyError('authInvalid');
          }
          deps.throttle.recordSuccess(session.remoteAddress);
          log.info({ user: account.address, method: auth.method }, 'authenticated');
          return { user: account };
        });
      },
      onMailFrom(address, session, callback) {
        const log = logger.child({ conn: session.id });
        settle(callback, log, async () => {
          const account = session.user as Account | undefined;
          if (!account) throw replyError('authRequired');
          await deps.policy.submissionSender(account, address.address);
        });
      },
      onRcptTo(address, session, callback) {
        const log = logger.child({ conn: session.id });
        settle(callback, log, async () => {
          if (!session.user) throw replyError('authRequired');
          if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) throw replyError('tooManyRecipients');
          address.address = await deps.policy.submissionRecipient(address.address);
          const domain = address.address.slice(address.address.lastIndexOf('@') + 1);
          if (!deps.policy.isLocalDomain(domain) && (await deps.nullMx?.(domain))) throw replyError('nullMx', domain);
        });
      },
      onData(stream, session, callback) {
        settle(callback, logger.child({ conn: session.id }), () =>
          acceptMessage(
            {
              kind,
              name: deps.name,
              hostname: deps.hostname,
              queue: deps.queue,
              chaos: deps.chaos,
              ...(deps.auth ? { auth: deps.auth } : {}),
              logger,
              ownAddresses: (account) => deps.policy.ownAddresses(account),
              ...(deps.maxMessageBytes === undefined ? {} : { maxMessageBytes: deps.maxMessageBytes }),
            },
            stream,
            session,
          ),
        );
      },
    },
    { chaos: deps.chaos, logger, authOnlyOverTls: !options.implicitTls, mailParameters: ['SIZE', 'BODY', 'AUTH'] },
  );
}
