/**
 * A queue entry as the admin API and the CLI show it (dates in ISO 8601). Kept apart
 * from the express app so the CLI starts without loading it.
 */
import type { QueueEntry } from '../queue/types.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The queue entry as the API shows it: dates in ISO 8601. */
export function entryView(entry: QueueEntry, inFlight: boolean) {
  return {
    queueId: entry.queueId,
    from: entry.mailFrom,
    messageId: entry.messageId,
    source: entry.source,
    clientAddress: entry.clientAddress,
    authUser: entry.authUser,
    queuedAt: iso(entry.queuedAt),
    size: entry.size,
    inFlight,
    recipients: entry.recipients.map((state) => ({
      recipient: state.recipient,
      status: state.status,
      attempts: state.attempts,
      nextAttemptAt: state.status === 'pending' || state.status === 'deferred' ? iso(state.nextAttemptAt) : undefined,
      lastAttemptAt: iso(state.lastAttemptAt),
      lastReply: state.lastReply,
      remoteMta: state.remoteMta,
    })),
  };
}

export type QueueEntryView = ReturnType<typeof entryView>;
