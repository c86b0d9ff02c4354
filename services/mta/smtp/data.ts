/**
 * End of DATA, the moment the MTA takes responsibility for a message: read and check the
 * stream (size, bare CR/LF, line length), apply the fault plan's `after-data` stage, complete a
 * submitted message (Message-ID, Date), let the caller scan inbound mail, prepend the
 * Received header (and the caller's headers), and only once the queue has fsync'd it,
 * answer `250 2.0.0 Ok: queued as <id>`. Any failure to queue is a 451, never a 250.
 * A transaction one of the lab's MTAs sends again after a lost reply (resend.ts) is
 * answered with the first reply and not queued again.
 */
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { parseAddress } from '../../../shared/address.ts';
import type { Logger } from '../../../shared/log.ts';
import { buildReceived } from '../../../shared/received.ts';
import type { Account } from '../../../shared/users.ts';
import type { MtaAuth } from '../auth/mta-auth.ts';
import type { AuthSummary } from '../auth/verify.ts';
import { newQueueId, type Queue } from '../queue/types.ts';
import { decide, requestScan, type CallerSettings } from './caller-client.ts';
import { chaosDecision, clientAddress, type ChaosEngine } from './chaos.ts';
import { withoutVerdictFields } from '../../../shared/verdict-fields.ts';
import { foreignAuthor } from './author.ts';
import { DataScanner } from './data-scanner.ts';
import { completeSubmittedMessage, headerValue, prependHeaders } from './message.ts';
import { REPLIES, replyError, SmtpReplyError } from './replies.ts';
import { queuedReply, resendKeys, type ResendGuard } from './resend.ts';
import type { ListenerKind } from './session.ts';

export interface DataContext {
  kind: ListenerKind;
  /** MTA_NAME, for the Received header's software tag. */
  name: string;
  /** MTA_HOSTNAME */
  hostname: string;
  queue: Queue;
  chaos: ChaosEngine;
  /** Set on the MX listener when MTA_CALLER_URL is configured. */
  caller?: CallerSettings;
  auth?: MtaAuth;
  logger: Logger;
  maxMessageBytes?: number;
  /** Set on the MX listener when MTA_PEER_ADDRESSES names the lab's MTAs. */
  resend?: ResendGuard;
  /** Submission: the login's own addresses, which From and Sender must use (author.ts). */
  ownAddresses?: (account: Account) => Promise<readonly string[]>;
}


async function readMessage(stream: SMTPServerDataStream, maxBytes: number | undefined): Promise<DataScanner> {
  const scanner = new DataScanner(maxBytes === undefined ? {} : { maxBytes });
  for await (const chunk of stream) scanner.push(chunk as Buffer);
  return scanner;
}

function canonical(address: string): string {
  if (address === '') return '';
  const parsed = parseAddress(address);
  return parsed.ok ? parsed.address.canonical : address.toLowerCase();
}

/** Resolves to the text of the 250 reply; throws an SmtpReplyError for every refusal. */
export async function acceptMessage(ctx: DataContext, stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
  const log = ctx.logger.child({ conn: session.id });
  const scanner = await readMessage(stream, ctx.maxMessageBytes);
  const problem = scanner.problem();
  if (problem === 'too-big' || stream.sizeExceeded) throw replyError('messageTooBig');
  if (problem === 'bare-line-ending') throw replyError('bareLineEnding');
  if (problem === 'line-too-long') throw replyError('lineTooLong');

  const account = session.user as Account | undefined;
  const mailFrom = session.envelope.mailFrom ? canonical(session.envelope.mailFrom.address) : '';
  // One entry per mailbox: `<Postmaster>` and `<postmaster@domain>` are the same one.
  const rcptTo = [...new Set(session.envelope.rcptTo.map((rcpt) => canonical(rcpt.address)))];
  const chaos = await chaosDecision(ctx.chaos, 'after-data', { client: clientAddress(session.remoteAddress), sender: mailFrom, rcpts: rcptTo }, log);
  if (chaos?.reply) throw new SmtpReplyError(chaos.reply);
  if (chaos?.blackhole) {
    // Asked for explicitly (blackhole: true): the 250 a sender trusts, and nothing kept.
    log.warn({ event: 'chaos.blackhole', rule: chaos.ruleId, from: mailFrom, to: rcptTo, size: scanner.message().length }, 'message discarded after 250 (chaos blackhole)');
    return queuedReply(newQueueId());
  }
  let message = scanner.message();
  if (ctx.kind !== 'smtp') message = completeSubmittedMessage(message, ctx.hostname);
  if (ctx.kind !== 'smtp' && account && ctx.ownAddresses) {
    const foreign = foreignAuthor(message, await ctx.ownAddresses(account));
    if (foreign !== undefined) throw replyError('authorNotOwned', foreign);
  }
  const guard = ctx.kind === 'smtp' ? ctx.resend : undefined;
  const keys = guard ? resendKeys(guard, session.remoteAddress, message, rcptTo) : undefined;
  if (!guard || !keys) return takeMessage(ctx, session, log, { message, mailFrom, rcptTo, account });

  // One of the lab's MTAs: answer a transaction it already sent with the reply it missed.
  const keyOf = (rcpt: string) => keys.get(rcpt) ?? rcpt;
  return guard.log.exclusive([...keys.values()], async () => {
    const fresh = rcptTo.filter((rcpt) => guard.log.get(keyOf(rcpt)) === undefined);
    if (fresh.length === 0) {
      const reply = guard.log.get(keyOf(rcptTo[0] ?? ''))?.reply ?? queuedReply('unknown');
      log.info({ event: 'resend.recognised', rcptTo, reply }, 'transaction sent again after a lost reply: already queued, not stored twice');
      return reply;
    }
    const reply = await takeMessage(ctx, session, log, { message, mailFrom, rcptTo: fresh, account, transactionKeys: fresh.map(keyOf) });
    try {
      await guard.log.remember(fresh.map((rcpt) => ({ key: keyOf(rcpt), reply })));
    } catch (error) {
      // The message is queued, with its keys in the spool entry (read back at start).
      log.error({ err: error }, 'transaction log write failed');
    }
    return reply;
  });
}

interface Taken {
  message: Buffer;
  mailFrom: string;
  rcptTo: string[];
  account: Account | undefined;
  transactionKeys?: string[];
}

/** Scan (MX), trace headers, queue: resolves to the 250 text once the message is fsync'd. */
async function takeMessage(ctx: DataContext, session: SMTPServerSession, log: Logger, taken: Taken): Promise<string> {
  const { mailFrom, rcptTo, account } = taken;
  let { message } = taken;
  const queueId = newQueueId();
  const messageId = headerValue(message, 'Message-ID');
  const qlog = log.child({ queueId, messageId });

  // Signed before queueing, so the queue file holds what goes out (issue 13 item 2).
  if (ctx.kind !== 'smtp' && ctx.auth) {
    const signed = await ctx.auth.sign(message);
    if (signed.signed) message = signed.message;
    qlog.info(signed.signed ? { dkim: 'signed', domain: signed.domain, selectors: signed.selectors } : { dkim: 'unsigned', why: signed.reason }, 'dkim');
  }

  // On the MX port, before the caller: SPF, DKIM, DMARC, ARC (issue 13 item 3).
  let arcSet: string[] = [];
  let authTrace: string[] = [];
  let auth: AuthSummary | undefined;
  if (ctx.kind === 'smtp' && ctx.auth?.verify) {
    const verdict = await ctx.auth.verify(message, { clientAddress: session.remoteAddress, helo: session.hostNameAppearsAs || '', mailFrom });
    // The field itself too: for a refused message (550, 451) the log is the only place it is kept.
    qlog.info({ auth: verdict.summary, action: verdict.action, why: verdict.reason, results: verdict.trace[0]?.replace(/\r\n[ \t]+/gu, ' ').trimEnd() }, 'authentication');
    if (verdict.action === 'reject') throw new SmtpReplyError({ ...REPLIES.dmarcRejected, text: `${REPLIES.dmarcRejected.text}: ${verdict.reason}` });
    if (verdict.action === 'tempfail') throw new SmtpReplyError({ ...REPLIES.authTempfail, text: `${REPLIES.authTempfail.text}: ${verdict.reason}` });
    message = verdict.message;
    arcSet = verdict.arcSet;
    authTrace = verdict.trace;
    auth = verdict.summary;
  }

  let verdictHeaders: string[] = [];
  if (ctx.kind === 'smtp' && ctx.caller) {
    const outcome = await requestScan(
      ctx.caller,
      {
        queueId,
        ...(messageId === undefined ? {} : { messageId }),
        clientAddress: session.remoteAddress,
        helo: session.hostNameAppearsAs || '',
        mailFrom,
        rcptTo,
        policy: { tagScore: ctx.caller.tagScore, rejectScore: ctx.caller.rejectScore },
        ...(auth ? { auth } : {}),
      },
      authTrace.length > 0 ? prependHeaders(message, authTrace) : message,
    );
    const decision = decide(outcome, ctx.caller);
    qlog.info(
      outcome.ok
        ? { action: outcome.verdict.action, score: outcome.verdict.spam.score, viruses: outcome.verdict.virus.names, decision: decision.kind, elapsedMs: outcome.verdict.elapsedMs }
        : { scanFailed: outcome.reason, decision: decision.kind, failOpen: ctx.caller.failOpen },
      'caller verdict',
    );
    if (decision.kind === 'refuse') throw new SmtpReplyError(decision.reply);
    verdictHeaders = decision.headers;
  }

  const tls = session.tlsOptions ? { version: session.tlsOptions.version, cipher: session.tlsOptions.name } : undefined;
  const received = buildReceived({
    helo: session.hostNameAppearsAs || '',
    clientAddress: session.remoteAddress,
    by: ctx.hostname,
    software: `mxlab ${ctx.name}`,
    protocol: session.openingCommand === 'HELO' ? 'SMTP' : 'ESMTP',
    ...(tls ? { tls } : {}),
    ...(account ? { authUser: account.address } : {}),
    id: queueId,
    ...(rcptTo.length === 1 && rcptTo[0] !== undefined ? { for: rcptTo[0] } : {}),
  });
  // This hop's block: the ARC set it sealed on top, its Received, then what
  // it found: Authentication-Results, the quarantine note, the caller's verdict. No verdict
  // field but this hop's own survives (shared/verdict-fields.ts).
  message = prependHeaders(withoutVerdictFields(message), [...arcSet, received, ...authTrace, ...verdictHeaders]);

  let queued: string;
  try {
    ({ queueId: queued } = await ctx.queue.enqueue({
      queueId,
      mailFrom,
      rcptTo,
      message,
      ...(messageId === undefined ? {} : { messageId }),
      source: ctx.kind === 'smtp' ? 'mx' : 'submission',
      clientAddress: session.remoteAddress,
      ...(account ? { authUser: account.address } : {}),
      conn: session.id,
      ...(taken.transactionKeys ? { transactionKeys: taken.transactionKeys } : {}),
    }));
  } catch (error) {
    const full = isDiskFull(error);
    qlog.error({ err: error }, full ? 'queue disk full, answering 452' : 'enqueue failed, answering 451');
    throw replyError(full ? 'queueFull' : 'queueFailed', undefined, error);
  }
  // The spool's `queue.enqueued` line (with this conn id) is the message's log line here.
  return queuedReply(queued);
}

/** No room on the queue's file system (or over its quota): a 452 4.3.1, the sender retries later. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
