/**
 * The queue contract between the SMTP listeners (which accept mail) and the delivery
 * runner (which sends it on). `enqueue` resolves only once the message, its per-recipient
 * state and the spool directory are fsync'd, so a `250` after it survives `kill -9`.
 */
import { randomBytes } from 'node:crypto';

export interface EnqueueRequest {
  /** '' for the null sender (RFC 5321 §4.5.5). */
  mailFrom: string;
  /** Canonical addresses. */
  rcptTo: string[];
  /** Full message as it will be delivered (CRLF), trace headers already prepended. */
  message: Buffer;
  messageId?: string;
  source: 'mx' | 'submission' | 'bounce';
  clientAddress: string;
  authUser?: string;
  /** Optional id chosen by the caller (so its Received header can name it). */
  queueId?: string;
  /** SMTP connection id (`conn` in the listener's log lines), for the one `queued` log line. */
  conn?: string;
  /**
   * Keys of the sender's transaction (services/mta/smtp/resend.ts), stored with the message
   * so that a resend is recognised even when a crash came before the transaction log's fsync.
   */
  transactionKeys?: string[];
}

export interface Queue {
  /** Resolves only after data + state + directory are fsync'd. */
  enqueue(request: EnqueueRequest): Promise<{ queueId: string }>;
}

export type RecipientStatus = 'pending' | 'deferred' | 'delivered' | 'failed';

/** One recipient's delivery state, as stored in its state file. */
export interface RecipientState {
  recipient: string;
  status: RecipientStatus;
  attempts: number;
  /** Epoch ms of the next attempt (pending/deferred). */
  nextAttemptAt: number;
  lastAttemptAt?: number;
  /** Last reply or error text, e.g. `451 4.3.0 try later (mx1.beta.test [127.28.0.21])`. */
  lastReply?: string;
  /** Enhanced status code of the final or last result, e.g. `5.1.1`. */
  statusCode?: string;
  /** Host that gave the last reply. */
  remoteMta?: string;
  /** A delay warning (DSN Action: delayed) was already sent. */
  warned?: boolean;
  /** A bounce for this recipient was already enqueued. */
  bounced?: boolean;
}

/** Envelope and bookkeeping of one queued message, stored beside its data file. */
export interface MessageMeta {
  queueId: string;
  mailFrom: string;
  messageId?: string;
  source: EnqueueRequest['source'];
  clientAddress: string;
  authUser?: string;
  /** Epoch ms when the message was queued. */
  queuedAt: number;
  size: number;
  /** EnqueueRequest.transactionKeys. */
  transactionKeys?: string[];
}

/** What the admin endpoint and the CLI show for a queued message. */
export interface QueueEntry extends MessageMeta {
  recipients: RecipientState[];
}

/**
 * A queue id: time-ordered and unique without coordination (12 hex digits of
 * milliseconds, 8 of randomness), safe as a file name. Example: `019ab3c1f2e4A7F3C2B1`.
 */
export function newQueueId(now: number = Date.now()): string {
  return `${now.toString(16).toUpperCase().padStart(12, '0')}${randomBytes(4).toString('hex').toUpperCase()}`;
}

/** Queue ids are file names in the spool: only what newQueueId makes is accepted. */
export const QUEUE_ID_PATTERN = /^[0-9A-F]{12,40}$/u;

export function isQueueId(text: string): boolean {
  return QUEUE_ID_PATTERN.test(text);
}
