/**
 * What `npm run queue` and `npm run chaos` share: their options (`--url`, `--mta`,
 * MTA_ADMIN_URL, MXLAB_ADMIN_TOKEN), usage errors, and how a command-line run ends.
 */
import { AGENT_ADDRESSES, MTA_HOSTNAMES, SERVICE_PORTS, toLoopback } from '../../../shared/lab.ts';
import { AdminError, DEFAULT_ADMIN_URL } from './client.ts';

export const MTAS = Object.keys(MTA_HOSTNAMES) as (keyof typeof MTA_HOSTNAMES)[];

export class UsageError extends Error {}

export function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  args.splice(index, 2);
  return value;
}

export function flag(args: string[], name: string): boolean {
  const index = args.indexOf(name);
  if (index !== -1) args.splice(index, 1);
  return index !== -1;
}

/** `npm run chaos -- --mta caller`: the caller's fault plan (DNS rules), on its own HTTP API. */
export const CALLER = 'caller';

/** The admin endpoint of an MTA of the no-Docker lab, on its loopback address (or the caller's API, when `caller` is allowed). */
export function labAdminUrl(mta: string, options: { caller?: boolean } = {}): string {
  if (options.caller === true && mta === CALLER) return `http://${toLoopback(AGENT_ADDRESSES.caller)}:${SERVICE_PORTS.caller}`;
  if (!(MTAS as string[]).includes(mta)) throw new UsageError(`--mta takes one of ${[...MTAS, ...(options.caller === true ? [CALLER] : [])].join(', ')}`);
  return `http://${toLoopback(AGENT_ADDRESSES[mta as (typeof MTAS)[number]])}:${SERVICE_PORTS.mtaAdmin}`;
}

/** `--url`, `--mta`, MTA_ADMIN_URL or the default, with MXLAB_ADMIN_TOKEN; takes the options out of `args`. */
export function adminTarget(args: string[], env: NodeJS.ProcessEnv, options: { caller?: boolean } = {}): { url: string; token: string | undefined } {
  const url = option(args, '--url');
  const mta = option(args, '--mta');
  if (url !== undefined && mta !== undefined) throw new UsageError('give --url or --mta, not both');
  const chosen = url ?? (mta === undefined ? (env.MTA_ADMIN_URL ?? DEFAULT_ADMIN_URL) : labAdminUrl(mta, options));
  return { url: chosen, token: env.MXLAB_ADMIN_TOKEN || undefined };
}

/** Runs a CLI's main function: output to stdout, errors to stderr, exit code 2 for usage, 1 otherwise. */
export function runMain(main: () => Promise<string>, usage: string): void {
  main().then(
    (output) => process.stdout.write(output),
    (error: unknown) => {
      if (error instanceof UsageError) process.stderr.write(`${error.message}\n${usage}`);
      else if (error instanceof AdminError) process.stderr.write(`${error.message}\n`);
      else process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    },
  );
}
