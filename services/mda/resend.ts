/**
 * The MDA's side of "nothing delivered twice" (issue 15): an MTA whose LMTP reply was lost
 * in a crash (ours or its own) delivers the same transaction again. Its key (the MTA's
 * Received id and the recipient, shared/trace-id.ts) is written to the transaction log
 * *before* the message is renamed from `tmp/` into the Maildir, together with both names.
 * So a resend finds either a finished delivery (answered with the first reply, nothing
 * written) or one a crash cut between the two steps, which it finishes by doing the rename.
 * Only the lab's MTAs reach LMTP (MDA_LMTP_CLIENTS), so every trace id here is theirs.
 */
import { readdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDirectory } from '../../shared/maildir/deliver.ts';
import { pathExists } from '../../shared/maildir/layout.ts';
import { INFO_SEPARATOR } from '../../shared/maildir/names.ts';
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

/**
 * Completes a delivery a crash stopped between its log entry and its rename. `was-done`:
 * the file is in the Maildir (in new/, or in cur/ with flags once a reader saw it);
 * `missing`: neither the tmp file nor the delivered one is there (the log line outlived a
 * write that failed, or the user already deleted the message): deliver it again, as
 * Postfix would, rather than risk losing it.
 */
export async function finishPending(entry: Remembered): Promise<'finished' | 'was-done' | 'missing'> {
  if (!entry.pending) return 'was-done';
  const { from, to } = entry.pending;
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return (await isInMaildir(to)) ? 'was-done' : 'missing';
  }
  await fsyncDirectory(dirname(to));
  return 'finished';
}

/** `<folder>/new/<name>`, or `<folder>/cur/<name>:2,<flags>` after a reader moved it. */
async function isInMaildir(path: string): Promise<boolean> {
  if (await pathExists(path)) return true;
  const name = basename(path);
  const cur = join(dirname(dirname(path)), 'cur');
  const names = await readdir(cur).catch(() => [] as string[]);
  return names.some((file) => file === name || file.startsWith(`${name}${INFO_SEPARATOR}`));
}
