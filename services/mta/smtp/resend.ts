/**
 * Recognising a transaction that one of the lab's own MTAs sends again because a crash
 * lost our `250` (issue 15: nothing delivered twice), or that reaches us a second time by
 * the backup MX. The first lab MTA queued the message under its Received field
 * (`by <its host> (mxlab <name>) … id <its queue id>`), which every copy keeps, so that
 * field and the recipient are the transaction's key (shared/trace-id.ts). Keys are only taken from clients at the addresses of the lab's MTAs
 * (MTA_PEER_ADDRESSES); a foreign sender's mail is taken as before, every time it comes.
 */
import { join } from 'node:path';
import { TransactionLog } from '../../../shared/transaction-log.ts';
import { normalizeAddress, traceIdOf, transactionKey } from '../../../shared/trace-id.ts';
import type { QueueEntry } from '../queue/types.ts';

export interface ResendGuard {
  log: TransactionLog;
  /** Client addresses whose trace ids are trusted: the lab's MTAs. */
  peers: ReadonlySet<string>;
}

/** One key per recipient when the client is a lab MTA and the message carries its trace id. */
export function resendKeys(guard: ResendGuard, clientAddress: string, message: Buffer, recipients: readonly string[]): Map<string, string> | undefined {
  if (!guard.peers.has(normalizeAddress(clientAddress))) return undefined;
  const trace = traceIdOf(message);
  if (!trace) return undefined;
  return new Map(recipients.map((recipient) => [recipient, transactionKey(trace, recipient)]));
}

/** The text of the 250 after DATA, and of the answer to a resend of the same transaction. */
export function queuedReply(queueId: string): string {
  return `2.0.0 Ok: queued as ${queueId}`;
}

/** The transaction log's file, beside the spool's folders. */
export const TRANSACTION_LOG_FILE = 'transactions.log';

/**
 * Opens the MTA's transaction log in its queue directory. Keys of messages still queued are
 * written to it again: a crash may have come between the spool's fsync and the log's, and
 * the keys must outlive the spool entry, which goes when the message is delivered.
 */
export async function openResendGuard(options: {
  queueDir: string;
  peers: readonly string[];
  windowMs: number;
  maxKeys: number;
  queued: readonly QueueEntry[];
}): Promise<ResendGuard> {
  const log = await TransactionLog.open({ path: join(options.queueDir, TRANSACTION_LOG_FILE), windowMs: options.windowMs, maxEntries: options.maxKeys });
  const missing: { key: string; reply: string }[] = [];
  for (const entry of options.queued) {
    for (const key of entry.transactionKeys ?? []) if (log.get(key) === undefined) missing.push({ key, reply: queuedReply(entry.queueId) });
  }
  await log.remember(missing);
  return { log, peers: new Set(options.peers.map(normalizeAddress)) };
}
