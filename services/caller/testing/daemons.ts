/**
 * Test helper: runs the real ClamAV and SpamAssassin daemons from the Debian packages
 * (`clamav-daemon`, `spamassassin`) on 127.0.0.1, offline. clamd gets a temporary
 * signature database made here that detects EICAR (no freshclam); spamd uses the rules
 * the package ships. A daemon that cannot start is an error naming what is missing —
 * tests fail, they are never skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostPort } from '../../../shared/config.ts';
import { EICAR } from '../engines/eicar.ts';
import { freePort } from '../../../shared/free-port.ts';

/** clamd loads one small database in a second or two; spamd compiles its rules first. */
export const CLAMD_START_TIMEOUT_MS = 60_000;
export const SPAMD_START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 250;
const MAX_OUTPUT_CHARS = 20_000;

/** The name in our database; clamd reports it with `.UNOFFICIAL` (not a signed ClamAV database). */
export const EICAR_SIGNATURE_NAME = 'Eicar-Signature';

export interface RunningDaemon {
  address: HostPort;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startClamd(): Promise<RunningDaemon> {
  const binary = await findExecutable('clamd', 'clamav-daemon');
  const dir = await mkdtemp(path.join(tmpdir(), 'mxlab-clamd-'));
  const port = await freePort();
  const database = path.join(dir, 'db');
  await mkdir(database);
  // An .ndb body signature (ClamAV "Extended signature format"): name, target type 0 =
  // any file, offset * = anywhere, the EICAR bytes in hex. It matches the raw stream
  // and every part clamd decodes or unpacks (MIME, zip).
  await writeFile(path.join(database, 'mxlab.ndb'), `${EICAR_SIGNATURE_NAME}:0:*:${EICAR.toString('hex')}\n`);
  const logFile = path.join(dir, 'clamd.log');
  const config = [
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    'Foreground yes',
    `DatabaseDirectory ${database}`,
    `TemporaryDirectory ${dir}`,
    `LogFile ${logFile}`,
    `PidFile ${path.join(dir, 'clamd.pid')}`,
    'MaxThreads 2',
    ...(process.getuid?.() === 0 ? ['User root'] : []),
  ];
  const configFile = path.join(dir, 'clamd.conf');
  await writeFile(configFile, `${config.join('\n')}\n`);
  const child = spawn(binary, ['--config-file', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  return await supervise('clamd', child, { host: '127.0.0.1', port }, CLAMD_START_TIMEOUT_MS, Buffer.from('zPING\0'), /PONG/, dir, logFile);
}

export async function startSpamd(): Promise<RunningDaemon> {
  const binary = await findExecutable('spamd', 'spamassassin');
  await checkSpamAssassinRules();
  const dir = await mkdtemp(path.join(tmpdir(), 'mxlab-spamd-'));
  const port = await freePort();
  const args = [
    '--listen-ip', '127.0.0.1',
    '--port', String(port),
    '--allowed-ips', '127.0.0.1',
    '--nouser-config',
    '--syslog', 'stderr',
    '--local', // no network tests (DNSBLs, Razor, Pyzor): the lab is offline
    '--max-children', '1',
    '--min-children', '1',
    '--pidfile', path.join(dir, 'spamd.pid'),
    ...(process.getuid?.() === 0 ? ['--username', 'nobody'] : []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  return await supervise('spamd', child, { host: '127.0.0.1', port }, SPAMD_START_TIMEOUT_MS, Buffer.from('PING SPAMC/1.5\r\n\r\n'), /PONG/, dir, undefined);
}

/** Waits until the daemon answers its PING; fails with its output if it exits or stays silent. */
async function supervise(
  name: string,
  child: ChildProcess,
  address: HostPort,
  timeoutMs: number,
  ping: Buffer,
  pong: RegExp,
  dir: string,
  logFile: string | undefined,
): Promise<RunningDaemon> {
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-MAX_OUTPUT_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      running.delete(child);
      resolve();
    });
  });
  child.once('error', (error) => {
    exited = `could not be started: ${error.message}`;
  });
  const stop = async (): Promise<void> => {
    if (exited === undefined && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && exited === undefined) {
    if (await answers(address, ping, pong)) return { address, stop };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const log = logFile === undefined ? '' : await readFile(logFile, 'utf8').catch(() => '');
  const why = exited ?? `did not answer PING on ${address.host}:${address.port} within ${timeoutMs} ms`;
  await stop();
  throw new Error(`${name} ${why}\n--- ${name} output ---\n${output}${log === '' ? '' : `\n--- ${name} log ---\n${log.slice(-MAX_OUTPUT_CHARS)}`}`);
}

function answers(address: HostPort, ping: Buffer, pong: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(address.port, address.host);
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => socket.write(ping));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (pong.test(reply)) done(true);
    });
    socket.once('end', () => done(pong.test(reply)));
    socket.once('error', () => done(false));
  });
}

async function findExecutable(name: string, debianPackage: string): Promise<string> {
  const directories = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const directory of directories.filter((entry) => entry !== '')) {
    const candidate = path.join(directory, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  throw new Error(`${name} is not installed: run \`apt-get install -y ${debianPackage}\` (.ci/run installs it for CI)`);
}

/** spamd without rules answers nothing useful; name the missing piece instead. */
async function checkSpamAssassinRules(): Promise<void> {
  for (const directory of ['/var/lib/spamassassin', '/usr/share/spamassassin']) {
    const files = await readdir(directory, { recursive: true }).catch(() => [] as string[]);
    if (files.some((file) => String(file).endsWith('.cf'))) return;
  }
  throw new Error('no SpamAssassin rules in /usr/share/spamassassin or /var/lib/spamassassin: the spamassassin package ships them; sa-update needs the internet');
}

