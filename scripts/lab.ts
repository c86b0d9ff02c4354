/**
 * `npm start`: the no-Docker lab. Starts every agent of both domains as its own process
 * on its own loopback address (scripts/lab-plan.ts), waits until each answers, prints the
 * endpoints and the lab users, and stops them all on Ctrl-C.
 *
 * While it runs, `npm run lab -- stop beta-mx1` / `start beta-mx1` / `status` take one
 * agent down and up again (a failure caused on purpose, like `docker compose stop`),
 * through an HTTP control socket at `<state>/control.sock`. An agent that dies on its own
 * (a crash, `npm run lab -- kill beta-mx1`, `kill -9`) is started again with backoff, as
 * compose's `restart: unless-stopped` does (scripts/restart-policy.ts); only an agent that
 * fails before the lab is first up stops the lab.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import http from 'node:http';
import { mkdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { EXIT_WITH_PARENT_VARIABLE } from '../shared/agent.ts';
import { parseHostPort } from '../shared/config.ts';
import { replaceFile } from '../shared/files.ts';
import { HOST_ENDPOINTS, LAB_DEFAULT_PASSWORD, LAB_USERS, labProfiles } from '../shared/lab.ts';
import { ensureLabUsers } from '../shared/users.ts';
import { warmCompileCache } from './compile-cache.ts';
import { issueLabCertificates, planCertificates, stateLayout } from './lab-certs.ts';
import { labPlan, publishedEndpoints, type AgentPlan } from './lab-plan.ts';
import { nextRestartDelay } from './restart-policy.ts';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const LOWEST_PORT_USED = 24;

const root = resolve(import.meta.dirname, '..');
const verbose = process.argv.includes('--verbose');
const stateDir = resolve(process.env.MXLAB_STATE_DIR ?? join(root, '.lab'));
const children = new Map<string, ChildProcess>();
/** Agents taken down on purpose through the control socket: their exit is not an error. */
const stoppedOnPurpose = new Set<string>();

/** What the supervisor knows of each agent, shown by `npm run lab -- status`. */
interface Supervision {
  restarts: number;
  lastExit?: { code: number | null; signal: NodeJS.Signals | null; at: string };
  startedAt: number;
  /** Answering on its first listener since its last start. */
  ready: boolean;
  delayMs?: number;
  restartTimer?: NodeJS.Timeout;
}
const supervision = new Map<string, Supervision>();
let stopping = false;
let plan: AgentPlan[] = [];

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

function supervisionOf(name: string): Supervision {
  let state = supervision.get(name);
  if (!state) supervision.set(name, (state = { restarts: 0, startedAt: Date.now(), ready: false }));
  return state;
}

/** --verbose: the agent's output into its log file and onto this terminal, each line prefixed with its name. */
function pipeOutput(name: string, child: ChildProcess, logPath: string): void {
  const logs = createWriteStream(logPath, { flags: 'a' });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      logs.write(chunk);
      process.stdout.write(chunk.toString().replace(/^(?=.)/gmu, `${name.padEnd(10)}| `));
    });
  }
  // A log that cannot be written is said, never a crash of the launcher (and of the lab with it);
  // it ends on 'close', once the agent's output is all read ('exit' can come before the last of it).
  logs.on('error', (error) => process.stderr.write(`mxlab: ${name}'s log: ${error.message}\n`));
  child.once('close', () => logs.end());
}

/**
 * Starts one agent and waits until it answers. `initial`: part of the lab's first start,
 * where an agent that exits stops the lab (a port taken, a bad config); later, an exit
 * is a crash and the agent is started again.
 */
async function startAgent(agent: AgentPlan, initial: boolean): Promise<void> {
  const logPath = join(stateDir, 'logs', `${agent.name}.log`);
  stoppedOnPurpose.delete(agent.name);
  const state = supervisionOf(agent.name);
  clearTimeout(state.restartTimer);
  state.restartTimer = undefined;
  state.startedAt = Date.now();
  state.ready = false;
  // The agent writes its log file itself (its stdout and stderr are the file, opened for
  // appending): a line costs it one write(2) and wakes nobody else. Only --verbose pipes
  // its output through here, to show it on the terminal as well.
  const logFd = verbose ? undefined : openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...agent.nodeOptions, join(root, agent.entry)], {
      cwd: root,
      // stdin: a pipe that closes when this launcher is gone, however it ends (shared/agent.ts).
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...agent.env, [EXIT_WITH_PARENT_VARIABLE]: '1' },
      stdio: logFd === undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', logFd, logFd],
    });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  children.set(agent.name, child);
  if (verbose) pipeOutput(agent.name, child, logPath);
  let exited = false;
  let ready = false;
  child.once('exit', (code, signal) => {
    exited = true;
    state.lastExit = { code, signal, at: new Date().toISOString() };
    if (stopping || stoppedOnPurpose.has(agent.name)) return;
    if (initial && !ready) {
      process.stderr.write(`mxlab: ${agent.name} stopped (${signal ?? `exit ${code}`}); see ${logPath}\n`);
      void stopAll(1);
      return;
    }
    scheduleRestart(agent, `${signal ?? `exit ${code}`}`, logPath);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await connects(agent.ready.host, agent.ready.port))) {
    if (exited || stopping) throw new Error(`${agent.name} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${agent.name} did not answer on ${agent.ready.host}:${agent.ready.port}`);
    await new Promise((resolveTimer) => setTimeout(resolveTimer, 100));
  }
  ready = true;
  state.ready = true;
}

/** compose's `restart: unless-stopped`: the agent died on its own, start it again after a backoff. */
function scheduleRestart(agent: AgentPlan, how: string, log: string): void {
  const state = supervisionOf(agent.name);
  state.delayMs = nextRestartDelay(state.delayMs, Date.now() - state.startedAt);
  process.stderr.write(`mxlab: ${agent.name} died (${how}); restarting in ${state.delayMs} ms (restart ${state.restarts + 1}); see ${log}\n`);
  state.restartTimer = setTimeout(() => {
    state.restartTimer = undefined;
    state.restarts += 1;
    // A start that fails is an exit, which schedules the next attempt.
    startAgent(agent, false).then(
      async () => {
        await writePids();
        say(`mxlab: ${agent.name} restarted (restart ${state.restarts})`);
      },
      (error: Error) => process.stderr.write(`mxlab: restart of ${agent.name} failed: ${error.message}\n`),
    );
  }, state.delayMs);
}

async function stopAgent(name: string): Promise<void> {
  const state = supervisionOf(name);
  clearTimeout(state.restartTimer);
  state.restartTimer = undefined;
  stoppedOnPurpose.add(name);
  const child = children.get(name);
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** SIGKILL, as `kill -9` or the OOM killer would: not a deliberate stop, so the agent is restarted. */
async function killAgent(name: string): Promise<void> {
  const child = children.get(name);
  if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} is not running`);
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGKILL');
  await exited;
}

type AgentState = 'running' | 'starting' | 'stopped' | 'restarting';

function agentStatus(): { name: string; address: string; state: AgentState; running: boolean; pid?: number; restarts: number; lastExit?: Supervision['lastExit'] }[] {
  return plan.map((agent) => {
    const child = children.get(agent.name);
    const running = child !== undefined && child.exitCode === null && child.signalCode === null;
    const watch = supervision.get(agent.name);
    const state: AgentState = running ? (watch?.ready ? 'running' : 'starting') : watch?.restartTimer ? 'restarting' : 'stopped';
    return {
      name: agent.name,
      address: agent.ready.host,
      state,
      running,
      ...(running && child.pid ? { pid: child.pid } : {}),
      restarts: watch?.restarts ?? 0,
      ...(watch?.lastExit ? { lastExit: watch.lastExit } : {}),
    };
  });
}

async function writePids(): Promise<void> {
  const pids = Object.fromEntries(agentStatus().filter((agent) => agent.pid).map((agent) => [agent.name, agent.pid]));
  // Atomically: readers (tests, scripts) may read it while an agent restarts.
  await replaceFile(join(stateDir, 'pids.json'), `${JSON.stringify(pids, null, 2)}\n`);
}

/** The control socket: GET /agents, POST /agents/<name>/stop|start|kill. */
async function startControl(): Promise<http.Server> {
  const socketPath = join(stateDir, 'control.sock');
  await rm(socketPath, { force: true });
  const server = http.createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(`${JSON.stringify(body)}\n`);
    };
    const match = /^\/agents(?:\/([a-z0-9-]+)\/(stop|start|kill))?$/u.exec(request.url ?? '');
    if (!match) return reply(404, { error: 'unknown path' });
    const [, name, action] = match;
    if (!name) return request.method === 'GET' ? reply(200, agentStatus()) : reply(405, { error: 'GET only' });
    if (request.method !== 'POST') return reply(405, { error: 'POST only' });
    const agent = plan.find((item) => item.name === name);
    if (!agent) return reply(404, { error: `no agent ${name}` });
    const running = agentStatus().find((item) => item.name === name)?.running;
    const work = action === 'stop' ? stopAgent(name) : action === 'kill' ? killAgent(name) : running ? Promise.resolve() : startAgent(agent, false);
    work.then(
      async () => {
        await writePids();
        say(`mxlab: ${name} ${action === 'stop' ? 'stopped' : action === 'kill' ? 'killed (SIGKILL)' : 'started'} on request`);
        reply(200, agentStatus().find((item) => item.name === name));
      },
      (error: Error) => reply(500, { error: error.message }),
    );
  });
  await new Promise<void>((resolveListen) => server.listen(socketPath, resolveListen));
  return server;
}

/** The one stop under way: every caller awaits it, and it ends in process.exit. */
let stopped: Promise<never> | undefined;

/**
 * Stops every agent and exits. A second call (an agent's exit handler and the start loop
 * both ask, when an agent dies during the first start) waits for the first one rather than
 * returning: the start loop must never go on to print "mxlab is up" for a lab that is
 * stopping (a test lab then saw every agent gone a moment after it came up).
 */
function stopAll(code: number): Promise<never> {
  stopped ??= stopEverything(code);
  return stopped;
}

async function stopEverything(code: number): Promise<never> {
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
  plan = labPlan({ root, stateDir });
  await checkPrivilegedPorts();
  await checkPortsFree(plan);
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  await warmCompileCache(root);
  // The lab users once, here, rather than by every agent at once on a fresh state (scrypt is slow on purpose).
  await ensureLabUsers(join(stateDir, 'users'), process.env.MXLAB_PASSWORD ?? LAB_DEFAULT_PASSWORD);
  // Every certificate here, before any agent starts: no agent holds the CA key.
  await issueLabCertificates(stateLayout(stateDir), planCertificates(plan));
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  // dns and caller, then the MDAs and MRAs, then the MTAs (which deliver into them), then the web mail.
  const stages: AgentPlan['entry'][][] = [['services/dns/main.ts', 'services/caller/main.ts'], ['services/mda/main.ts', 'services/mra/main.ts'], ['services/mta/main.ts'], ['services/mua/main.ts']];
  for (const stage of stages) {
    const agents = plan.filter((agent) => stage.includes(agent.entry));
    try {
      await Promise.all(agents.map((agent) => startAgent(agent, true)));
    } catch (error) {
      process.stderr.write(`mxlab: ${(error as Error).message}; logs in ${join(stateDir, 'logs')}\n`);
      await stopAll(1);
    }
  }

  await writePids();
  await startControl();
  say('');
  say('mxlab is up (no-Docker mode): every agent on its own loopback address.');
  say('');
  for (const agent of plan) say(`  ${agent.name.padEnd(11)} ${agent.ready.host}`);
  say('');
  say('Endpoints on 127.0.0.1:');
  for (const endpoint of publishedEndpoints()) say(`  ${String(endpoint.port).padStart(5)}  ${endpoint.what.replace('PORT', String(endpoint.port))}`);
  say('');
  say(`Lab users (password "${process.env.MXLAB_PASSWORD ? '$MXLAB_PASSWORD' : LAB_DEFAULT_PASSWORD}"):`);
  for (const [domain, locals] of Object.entries(LAB_USERS)) say(`  ${locals.map((local) => `${local}@${domain}`).join(', ')}  (postmaster@${domain} -> ${locals[0]})`);
  say('');
  say(`Lab CA (trust it in clients): ${join(stateDir, 'tls', 'ca.crt')}`);
  say(`Logs: ${join(stateDir, 'logs')}/<agent>.log   Stop: Ctrl-C`);
  say(
    labProfiles().has('cluster')
      ? 'Profile cluster is on: gamma.test (mx1 twice, mx2 and mx3 at equal preference), direct.gamma.test, delta.test.'
      : 'Add gamma.test, direct.gamma.test and delta.test: MXLAB_PROFILES=cluster npm start',
  );
  say('Take an agent down and up: npm run lab -- stop beta-mx1 | start beta-mx1 | kill beta-mx1 | status');
  say('An agent that dies on its own is restarted with backoff, as compose\'s restart: unless-stopped.');
}

await main();
