/**
 * The image's HEALTHCHECK: asks the agent running in this container whether it serves.
 * The agent is read from PID 1's command line (`node services/<agent>/main.ts`) or from
 * MXLAB_AGENT; its port comes from the same variable the agent reads (services/ENV.md).
 * Mail agents must greet on their protocol port (SMTP/LMTP `220`, IMAP `* OK`); HTTP
 * agents must answer `GET /healthz` with 200 (the MUA: its start page, 2xx or 3xx). Exit 0 = healthy, 1 = not.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** Docker kills the check after its own timeout (10 s, Dockerfile); node itself needs ~1 s to start. */
const CHECK_TIMEOUT_MS = 6000;

type Check =
  | { kind: 'greeting'; listen: string; prefix: string; bye: string }
  | { kind: 'http'; listen: string; path: string; ok: (status: number) => boolean };

const isOk = (status: number): boolean => status === 200;
/** The web mail's start page: the login form or a redirect to it. */
const isPage = (status: number): boolean => status >= 200 && status < 400;

const CHECKS: Record<string, () => Check> = {
  mta: () => ({
    kind: 'greeting',
    listen: firstListen(process.env.MTA_SMTP_LISTEN, process.env.MTA_SUBMISSION_LISTEN, '0.0.0.0:25'),
    prefix: '220',
    bye: 'QUIT\r\n',
  }),
  mda: () => ({ kind: 'greeting', listen: firstListen(process.env.MDA_LMTP_LISTEN, '0.0.0.0:24'), prefix: '220', bye: 'QUIT\r\n' }),
  mra: () => ({ kind: 'greeting', listen: firstListen(process.env.MRA_IMAP_LISTEN, '0.0.0.0:143'), prefix: '* OK', bye: 'a LOGOUT\r\n' }),
  caller: () => ({ kind: 'http', listen: firstListen(process.env.CALLER_LISTEN, '0.0.0.0:8025'), path: '/healthz', ok: isOk }),
  mua: () => ({ kind: 'http', listen: firstListen(process.env.MUA_LISTEN, '0.0.0.0:8080'), path: '/', ok: isPage }),
};

/** The first `host:port` of the first non-empty list; wildcard hosts are asked on loopback. */
function firstListen(...lists: (string | undefined)[]): string {
  const list = lists.find((value) => value !== undefined && value.trim() !== '') ?? '';
  const first = list.split(',')[0]?.trim() ?? '';
  const match = /^(.*):(\d+)$/u.exec(first);
  if (!match) throw new Error(`no listen address in ${JSON.stringify(list)}`);
  const host = match[1] === '0.0.0.0' || match[1] === '' || match[1] === '[::]' ? '127.0.0.1' : match[1];
  return `${host}:${match[2]}`;
}

function agentName(): string {
  if (process.env.MXLAB_AGENT) return process.env.MXLAB_AGENT;
  const cmdline = readFileSync('/proc/1/cmdline', 'utf8').replaceAll('\0', ' ');
  const match = /services\/([a-z]+)\/main\.ts/u.exec(cmdline);
  if (!match?.[1]) throw new Error(`no mxlab agent in PID 1's command line: ${cmdline}`);
  return match[1];
}

function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/gu, ''), port: Number(listen.slice(at + 1)) };
}

/** Reads the greeting, says goodbye and waits for the server to close, so it logs no reset. */
function greeting(check: Extract<Check, { kind: 'greeting' }>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(splitListen(check.listen));
    let received = '';
    let greeted: string | undefined;
    socket.setEncoding('utf8');
    socket.setTimeout(CHECK_TIMEOUT_MS, () => socket.destroy(new Error(`no greeting from ${check.listen}`)));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (greeted !== undefined || !received.includes('\n')) return;
      greeted = received.split('\r\n')[0] ?? '';
      if (!greeted.startsWith(check.prefix)) {
        socket.destroy(new Error(`unexpected greeting from ${check.listen}: ${greeted}`));
        return;
      }
      socket.write(check.bye);
    });
    socket.on('error', (error) => {
      if (greeted?.startsWith(check.prefix)) resolve(greeted);
      else reject(error);
    });
    socket.on('close', () => {
      if (greeted?.startsWith(check.prefix)) resolve(greeted);
      else reject(new Error(`${check.listen} closed before greeting`));
    });
  });
}

async function http(check: Extract<Check, { kind: 'http' }>): Promise<string> {
  const response = await fetch(`http://${check.listen}${check.path}`, {
    redirect: 'manual',
    signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!check.ok(response.status)) throw new Error(`GET ${check.path} on ${check.listen}: ${response.status}`);
  return `GET ${check.path} ${response.status}`;
}

async function main(): Promise<void> {
  const agent = agentName();
  const make = CHECKS[agent];
  if (!make) throw new Error(`no health check for agent ${agent}`);
  const check = make();
  const result = check.kind === 'http' ? await http(check) : await greeting(check);
  process.stdout.write(`${agent}: ${result}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stdout.write(`unhealthy: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
