/**
 * `npm start`: the no-Docker lab. Starts every agent of both domains as its own process
 * on its own loopback address (scripts/lab-plan.ts), waits until each answers, prints the
 * endpoints and the lab users, and stops them all on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { parseHostPort } from '../shared/config.ts';
import { HOST_ENDPOINTS, LAB_DEFAULT_PASSWORD, LAB_USERS } from '../shared/lab.ts';
import { labPlan, publishedEndpoints, type AgentPlan } from './lab-plan.ts';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const LOWEST_PORT_USED = 24;

const root = resolve(import.meta.dirname, '..');
const verbose = process.argv.includes('--verbose');
const stateDir = resolve(process.env.MXLAB_STATE_DIR ?? join(root, '.lab'));
const children = new Map<string, ChildProcess>();
let stopping = false;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string): never {
  process.stderr.write(`mxlab: ${message}\n`);
  process.exit(1);
}

async function checkPrivilegedPorts(): Promise<void> {
  if (process.getuid?.() === 0) return;
  const start = Number((await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').catch(() => '1024')).trim());
  if (start > LOWEST_PORT_USED) {
    fail(
      `the agents listen on the standard ports (25, 587, 143, …) of their own loopback addresses, which needs root or\n` +
        `  sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${LOWEST_PORT_USED}\n` +
        `(or run the lab in Docker: docker compose up)`,
    );
  }
}

function listenAddresses(plan: AgentPlan[]): { agent: string; host: string; port: number }[] {
  const result = [];
  for (const agent of plan) {
    for (const [key, value] of Object.entries(agent.env)) {
      if (!key.endsWith('_LISTEN') || value === '') continue;
      for (const item of value.split(',')) result.push({ agent: agent.name, ...parseHostPort(item) });
    }
  }
  return result;
}

function probeFree(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolvePromise) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolvePromise(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolvePromise(undefined)));
  });
}

async function checkPortsFree(plan: AgentPlan[]): Promise<void> {
  for (const { agent, host, port } of listenAddresses(plan)) {
    const error = await probeFree(host, port);
    if (!error) continue;
    const endpoint = Object.values(HOST_ENDPOINTS).find((item) => host === '127.0.0.1' && item.port === port);
    const hint = endpoint ? ` (set ${endpoint.env} to move it)` : '';
    if (error.code === 'EADDRINUSE') fail(`port ${port} on ${host} is already taken; ${agent} needs it${hint}`);
    if (error.code === 'EACCES') fail(`no permission to listen on ${host}:${port} for ${agent}`);
    fail(`cannot listen on ${host}:${port} for ${agent}: ${error.message}`);
  }
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolvePromise(false);
    });
  });
}

async function startAgent(agent: AgentPlan, logs: WriteStream): Promise<void> {
  const child = spawn(process.execPath, [join(root, agent.entry)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...agent.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(agent.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      logs.write(chunk);
      if (verbose) process.stdout.write(chunk.toString().replace(/^(?=.)/gmu, `${agent.name.padEnd(10)}| `));
    });
  }
  let exited = false;
  child.once('exit', (code, signal) => {
    exited = true;
    if (stopping) return;
    process.stderr.write(`mxlab: ${agent.name} stopped (${signal ?? `exit ${code}`}); see ${join(stateDir, 'logs', `${agent.name}.log`)}\n`);
    void stopAll(1);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await connects(agent.ready.host, agent.ready.port))) {
    if (exited || stopping) throw new Error(`${agent.name} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${agent.name} did not answer on ${agent.ready.host}:${agent.ready.port}`);
    await new Promise((resolveTimer) => setTimeout(resolveTimer, 100));
  }
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const running = [...children.values()].filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  const timer = setTimeout(() => running.forEach((child) => child.kill('SIGKILL')), STOP_GRACE_MS);
  await Promise.all(running.map((child) => new Promise((resolveExit) => child.once('exit', resolveExit))));
  clearTimeout(timer);
  say(code === 0 ? 'mxlab stopped.' : 'mxlab stopped after an error.');
  process.exit(code);
}

async function main(): Promise<void> {
  const plan = labPlan({ root, stateDir });
  await checkPrivilegedPorts();
  await checkPortsFree(plan);
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const order: AgentPlan['name'][][] = [['dns', 'caller'], ['alpha-mda', 'beta-mda', 'alpha-mra', 'beta-mra'], ['alpha-mta', 'beta-mx1', 'beta-mx2'], ['mua']];
  for (const group of order) {
    const agents = plan.filter((agent) => group.includes(agent.name));
    try {
      await Promise.all(agents.map((agent) => startAgent(agent, createWriteStream(join(stateDir, 'logs', `${agent.name}.log`), { flags: 'a' }))));
    } catch (error) {
      process.stderr.write(`mxlab: ${(error as Error).message}; logs in ${join(stateDir, 'logs')}\n`);
      await stopAll(1);
    }
  }

  const pids = Object.fromEntries([...children].map(([name, child]) => [name, child.pid]));
  await writeFile(join(stateDir, 'pids.json'), `${JSON.stringify(pids, null, 2)}\n`);
  say('');
  say('mxlab is up (no-Docker mode): every agent on its own loopback address.');
  say('');
  for (const agent of plan) say(`  ${agent.name.padEnd(10)} ${agent.ready.host}`);
  say('');
  say('Endpoints on 127.0.0.1:');
  for (const endpoint of publishedEndpoints()) say(`  ${String(endpoint.port).padStart(5)}  ${endpoint.what.replace('PORT', String(endpoint.port))}`);
  say('');
  say(`Lab users (password "${process.env.MXLAB_PASSWORD ? '$MXLAB_PASSWORD' : LAB_DEFAULT_PASSWORD}"):`);
  for (const [domain, locals] of Object.entries(LAB_USERS)) say(`  ${locals.map((local) => `${local}@${domain}`).join(', ')}  (postmaster@${domain} -> ${locals[0]})`);
  say('');
  say(`Lab CA (trust it in clients): ${join(stateDir, 'tls', 'ca.crt')}`);
  say(`Logs: ${join(stateDir, 'logs')}/<agent>.log   Stop: Ctrl-C`);
}

await main();
