/**
 * `npm run queue -- <command>`: the MTA's queue from the shell, through its admin
 * endpoint: `--url <url>`, or `--mta <agent>` (that MTA in the no-Docker lab, on its
 * loopback address), or MTA_ADMIN_URL, default http://127.0.0.1:8026.
 *
 *   list [--json]            queued messages and each recipient's state
 *   list --spool <dir>       the same, read from a spool directory (MTA_QUEUE_DIR)
 *   flush [queueId]          try every message (or one) now
 *   delete <queueId>         remove a message from the queue
 */
import { entryView } from './admin/view.ts';
import { AdminError, DEFAULT_ADMIN_URL, deleteMessage, flushQueue, formatQueue, listQueue } from './admin/client.ts';
import { readSpoolEntries } from './queue/inspect.ts';
import { AGENT_ADDRESSES, MTA_HOSTNAMES, SERVICE_PORTS, toLoopback } from '../../shared/lab.ts';

const MTAS = Object.keys(MTA_HOSTNAMES) as (keyof typeof MTA_HOSTNAMES)[];

const USAGE = `usage: npm run queue -- [--url <url> | --mta <${MTAS.join('|')}>] list [--json] [--spool <dir>] | flush [queueId] | delete <queueId>
  MTA_ADMIN_URL  admin endpoint when neither --url nor --mta is given (default ${DEFAULT_ADMIN_URL})
  MXLAB_ADMIN_TOKEN  sent as a bearer token when set (the MTA asks for it when it has one)
`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  args.splice(index, 2);
  return value;
}

function flag(args: string[], name: string): boolean {
  const index = args.indexOf(name);
  if (index !== -1) args.splice(index, 1);
  return index !== -1;
}

function adminUrl(args: string[], env: NodeJS.ProcessEnv): string {
  const url = option(args, '--url');
  const mta = option(args, '--mta');
  if (url !== undefined && mta !== undefined) throw new UsageError('give --url or --mta, not both');
  if (url !== undefined) return url;
  if (mta !== undefined) {
    if (!(MTAS as string[]).includes(mta)) throw new UsageError(`--mta takes one of ${MTAS.join(', ')}`);
    return `http://${toLoopback(AGENT_ADDRESSES[mta as (typeof MTAS)[number]])}:${SERVICE_PORTS.mtaAdmin}`;
  }
  return env.MTA_ADMIN_URL ?? DEFAULT_ADMIN_URL;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const args = [...argv];
  const url = { url: adminUrl(args, env), token: env.MXLAB_ADMIN_TOKEN || undefined };
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
    default:
      throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2)).then(
    (output) => process.stdout.write(output),
    (error: unknown) => {
      if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}`);
      else if (error instanceof AdminError) process.stderr.write(`${error.message}\n`);
      else process.stderr.write(`${String(error)}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    },
  );
}
