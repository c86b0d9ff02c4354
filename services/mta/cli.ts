/**
 * `npm run queue -- <command>`: the MTA's queue from the shell, through its admin
 * endpoint: `--url <url>`, or `--mta <agent>` (that MTA in the no-Docker lab, on its
 * loopback address), or MTA_ADMIN_URL, default http://127.0.0.1:8026.
 *
 *   list [--json]            queued messages and each recipient's state
 *   list --spool <dir>       the same, read from a spool directory (MTA_QUEUE_DIR)
 *   flush [queueId]          try every message (or one) now
 *   retry <queueId>          try one message now (the same as flush <queueId>)
 *   delete <queueId>         remove a message from the queue
 *   advance <seconds>        move the queue clock forward (lab only): retries come due,
 *                            messages past their deadline bounce at once
 */
import { entryView } from './admin/view.ts';
import { advanceQueue, DEFAULT_ADMIN_URL, deleteMessage, flushQueue, formatQueue, listQueue, retryMessage } from './admin/client.ts';
import { adminTarget, flag, MTAS, option, runMain, UsageError } from './admin/cli-args.ts';
import { readSpoolEntries } from './queue/inspect.ts';

const USAGE = `usage: npm run queue -- [--url <url> | --mta <${MTAS.join('|')}>] list [--json] [--spool <dir>] | flush [queueId] | retry <queueId> | delete <queueId> | advance <seconds>
  MTA_ADMIN_URL  admin endpoint when neither --url nor --mta is given (default ${DEFAULT_ADMIN_URL})
  MXLAB_ADMIN_TOKEN  sent as a bearer token when set (the MTA asks for it when it has one)
`;

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const args = [...argv];
  const url = adminTarget(args, env);
  const command = args.shift();
  switch (command) {
    case 'list': {
      const json = flag(args, '--json');
      const spool = option(args, '--spool');
      if (args.length > 0) throw new UsageError(`unexpected ${args.join(' ')}`);
      const messages = spool === undefined ? await listQueue(url) : (await readSpoolEntries(spool)).map((entry) => entryView(entry, false));
      return json ? `${JSON.stringify(messages, null, 2)}\n` : formatQueue(messages);
    }
    case 'flush': {
      if (args.length > 1) throw new UsageError('flush takes at most one queue id');
      const count = await flushQueue(url, args[0]);
      return `flushed ${count} message${count === 1 ? '' : 's'}\n`;
    }
    case 'delete': {
      const [id] = args;
      if (id === undefined || args.length > 1) throw new UsageError('delete takes one queue id');
      await deleteMessage(url, id);
      return `deleted ${id}\n`;
    }
    case 'retry': {
      const [id] = args;
      if (id === undefined || args.length > 1) throw new UsageError('retry takes one queue id');
      await retryMessage(url, id);
      return `retrying ${id} now\n`;
    }
    case 'advance': {
      const seconds = Number(args[0]);
      if (args.length !== 1 || !Number.isInteger(seconds) || seconds <= 0) throw new UsageError('advance takes a whole number of seconds');
      const moved = await advanceQueue(url, seconds);
      const expired = moved.expired.length === 0 ? '' : `; bounced past their deadline: ${moved.expired.join(' ')}`;
      return `queue clock ${moved.offsetSeconds} s ahead of real time (now ${moved.now})${expired}\n`;
    }
    default:
      throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => runCli(process.argv.slice(2)), USAGE);
