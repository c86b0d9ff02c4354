/**
 * The inbound MX listener (port 25): no AUTH, STARTTLS offered, RCPT only for local
 * users and backed-up relay domains (never an open relay), the caller consulted before
 * DATA is answered.
 */
import { MtaSmtpServer } from './connection.ts';
import { acceptMessage } from './data.ts';
import { commonOptions, type ListenerDeps } from './common-options.ts';
import { MAX_RECIPIENTS } from './limits.ts';
import { replyError } from './replies.ts';
import { settle } from './session.ts';

export function createMxServer(deps: ListenerDeps): MtaSmtpServer {
  const logger = deps.logger.child({ listener: 'smtp' });
  const common = commonOptions(deps, 'smtp');
  return new MtaSmtpServer(
    {
      ...common,
      disabledCommands: [...(common.disabledCommands ?? []), 'AUTH'],
      authOptional: true,
      onMailFrom(address, session, callback) {
        const log = logger.child({ conn: session.id });
        settle(callback, log, async () => {
          deps.policy.inboundSender(address.address);
        });
      },
      onRcptTo(address, session, callback) {
        const log = logger.child({ conn: session.id });
        settle(callback, log, async () => {
          if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) throw replyError('tooManyRecipients');
          // The canonical form is what gets queued (an unqualified `postmaster` gets its domain).
          address.address = await deps.policy.inboundRecipient(address.address);
        });
      },
      onData(stream, session, callback) {
        settle(callback, logger.child({ conn: session.id }), () =>
          acceptMessage(
            {
              kind: 'smtp',
              name: deps.name,
              hostname: deps.hostname,
              queue: deps.queue,
              chaos: deps.chaos,
              ...(deps.auth ? { auth: deps.auth } : {}),
              ...(deps.caller ? { caller: deps.caller } : {}),
              logger,
              ...(deps.maxMessageBytes === undefined ? {} : { maxMessageBytes: deps.maxMessageBytes }),
              ...(deps.resend ? { resend: deps.resend } : {}),
            },
            stream,
            session,
          ),
        );
      },
    },
    // RFC 1870 SIZE, RFC 6152 BODY; AUTH= only where AUTH is offered (RFC 4954 §5).
    { chaos: deps.chaos, logger, authOnlyOverTls: false, mailParameters: ['SIZE', 'BODY'] },
  );
}
