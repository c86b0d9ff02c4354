/**
 * The MDA's side of "nothing delivered twice" (issue 15): an MTA whose LMTP reply was lost
 * in a crash (ours or its own) delivers the same transaction again. Its key (the MTA's
 * Received id and the recipient, shared/trace-id.ts) is written to the transaction log
 * *before* the message is renamed from `tmp/` into the Maildir, together with both names.
 * So a resend finds either a finished delivery (answered with the first reply, nothing
 * written) or one a crash cut between the two steps, which it finishes by doing the rename.
 * Only the lab's MTAs reach LMTP (MDA_LMTP_CLIENTS), so every trace id here is theirs.
 */
import { rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDirectory } from '../../shared/maildir/deliver.ts';
import { TransactionLog, type Remembered } from '../../shared/transaction-log.ts';

/** Pending steps younger than this are checked at start (a crash leaves only the last few). */
const RECOVERY_HORIZON_MS = 60 * 60_000;

/** `<mail root>/.mxlab/<MDA_NAME>.transactions.log`: on the mail volume, beside the mail it vouches for. */
export function transactionLogPath(mailRoot: string, name: string): string {
  return join(mailRoot, '.mxlab', `${name}.transactions.log`);
}

export async function openMdaTransactionLog(options: { mailRoot: string; name: string; windowMs: number; maxKeys: number }): Promise<TransactionLog> {
  const path = transactionLogPath(options.mailRoot, options.name);
  const log = await TransactionLog.open({ path, windowMs: options.windowMs, maxEntries: options.maxKeys });
  const horizon = Date.now() - RECOVERY_HORIZON_MS;
  for (const [, entry] of log.pendingEntries()) if (entry.at >= horizon) await finishPending(entry);
  return log;
}

/** Completes a delivery a crash stopped between its log entry and its rename; a no-op when it was done. */
export async function finishPending(entry: Remembered): Promise<'finished' | 'was-done'> {
  if (!entry.pending) return 'was-done';
  try {
    await rename(entry.pending.from, entry.pending.to);
  } catch (error) {
    // The tmp file is gone: renamed before the crash (or later moved by the user).
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'was-done';
    throw error;
  }
  await fsyncDirectory(dirname(entry.pending.to));
  return 'finished';
}
