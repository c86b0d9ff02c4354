/**
 * Per-connection plumbing shared by the listeners: the bridge from our async handlers to
 * smtp-server's callbacks (an SmtpReplyError becomes its reply, anything else is logged
 * and shown as a temporary failure) and connection counting per client address.
 */
import type { SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../../shared/log.ts';
import { MAX_CONNECTIONS_PER_IP } from './limits.ts';
import { replyError, SmtpReplyError } from './replies.ts';

export type ListenerKind = 'smtp' | 'submission' | 'submissions';

/** Runs `work` and reports to smtp-server's callback exactly once. */
export function settle<T>(
  callback: (error?: Error | null, value?: T) => void,
  logger: Logger,
  work: () => Promise<T>,
): void {
  work().then(
    (value) => callback(null, value),
    (error: unknown) => {
      if (error instanceof SmtpReplyError) {
        logger.info({ reply: `${error.responseCode} ${error.message}` }, 'refused');
        callback(error);
        return;
      }
      logger.error({ err: error }, 'handler failed');
      callback(replyError('internalError'));
    },
  );
}

/** Counts open sessions per client address across a listener (Postfix smtpd_client_connection_count_limit). */
export class ConnectionCounter {
  private readonly perAddress = new Map<string, number>();
  private readonly counted = new Set<string>();
  private readonly limit: number;

  constructor(limit: number = MAX_CONNECTIONS_PER_IP) {
    this.limit = limit;
  }

  /** Counts the session in; false when its address already has `limit` sessions. */
  admit(session: SMTPServerSession): boolean {
    const count = this.perAddress.get(session.remoteAddress) ?? 0;
    if (count >= this.limit) return false;
    this.perAddress.set(session.remoteAddress, count + 1);
    this.counted.add(session.id);
    return true;
  }

  release(session: SMTPServerSession): void {
    if (!this.counted.delete(session.id)) return;
    const count = (this.perAddress.get(session.remoteAddress) ?? 1) - 1;
    if (count <= 0) this.perAddress.delete(session.remoteAddress);
    else this.perAddress.set(session.remoteAddress, count);
  }
}
