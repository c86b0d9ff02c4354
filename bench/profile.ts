/**
 * `node bench/profile.ts`: runs some agents of the lab by hand (their environment from
 * scripts/lab-plan.ts, on loopback net 127.31 and free host ports), the chosen ones
 * under `--cpu-prof`, drives one or more bench scenarios at them, stops them, and
 * prints where each profiled agent spent its CPU time.
 *
 * The bench options (`--only`, `--n`, `--k` …) choose the load; two variables choose
 * what is profiled:
 *   PROFILE_AGENTS=beta-mra node bench/profile.ts --only imap --k 8 --t 10
 *   PROFILE_AGENTS=beta-mx1,beta-mda node bench/profile.ts --only ingest --n 1000
 *   PROFILE_NODE_FLAGS=--import=/tmp/x.mjs …   extra node flags for the profiled agents (experiments)
 *   PROFILE_AGENT_ENV="MTA_DELIVERY_CONCURRENCY=20 …"   extra variables for every agent (experiments)
 * Profiles go to bench/results/profiles/<date>/<agent>/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../shared/free-port.ts';
import { issueLabCertificates, planCertificates, stateLayout } from '../scripts/lab-certs.ts';
import { labPlan, type AgentPlan } from '../scripts/lab-plan.ts';
import { HOST_ENDPOINTS, LAB_DEFAULT_PASSWORD, type HostEndpoint } from '../shared/lab.ts';
import { hotSpots, readProfile } from './lib/cpuprofile.ts';
import { processMemory, resetPeaks, type ProcessMemory } from './lib/memory.ts';
import { parseOptions } from './lib/options.ts';
import type { BenchTarget } from './lib/target.ts';
import { RUNNERS } from './scenarios/index.ts';

const PROFILE_NET = '127.31';
const READY_TIMEOUT_MS = 60_000;
const root = join(import.meta.dirname, '..');

/** The agents each scenario needs, in start order. */
const NEEDS: Record<string, string[]> = {
  ingest: ['dns', 'caller', 'beta-mda', 'beta-mra', 'beta-mx1'],
  submission: ['dns', 'caller', 'beta-mda', 'beta-mra', 'alpha-mda', 'beta-mx1', 'beta-mx2', 'alpha-mta'],
  imap: ['beta-mra'],
  pop3: ['beta-mra'],
  scale: ['beta-mra'],
};
const START_ORDER = ['dns', 'caller', 'alpha-mda', 'beta-mda', 'alpha-mra', 'beta-mra', 'alpha-mta', 'beta-mx1', 'beta-mx2'];

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startAgent(agent: AgentPlan, flags: string[], logDir: string): Promise<ChildProcess> {
  const log = createWriteStream(join(logDir, `${agent.name}.log`));
  const child = spawn(process.execPath, [...agent.nodeOptions, ...flags, join(root, agent.entry)], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...agent.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await connects(agent.ready.host, agent.ready.port))) {
    if (child.exitCode !== null) throw new Error(`${agent.name} exited (${child.exitCode}); see ${join(logDir, `${agent.name}.log`)}`);
    if (Date.now() > deadline) throw new Error(`${agent.name} not ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const profiled = (process.env.PROFILE_AGENTS ?? 'beta-mra').split(',').filter(Boolean);
  const extraFlags = (process.env.PROFILE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const extraEnv = Object.fromEntries((process.env.PROFILE_AGENT_ENV ?? '').split(' ').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  const stateDir = await mkdtemp(join(tmpdir(), 'mxlab-profile-'));
  const profileDir = join(root, 'bench', 'results', 'profiles', new Date().toISOString().replace(/[:.]/gu, '-'));
  const env: NodeJS.ProcessEnv = { MXLAB_LOOPBACK_NET: PROFILE_NET, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  const ports = {} as Record<HostEndpoint, number>;
  for (const [name, { env: variable }] of Object.entries(HOST_ENDPOINTS) as [HostEndpoint, { env: string }][]) {
    ports[name] = await freePort();
    env[variable] = String(ports[name]);
  }
  const plan = labPlan({ root, stateDir, env });
  const wanted = new Set(options.only.flatMap((scenario) => NEEDS[scenario] ?? []));
  const children = new Map<string, ChildProcess>();
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  await issueLabCertificates(stateLayout(stateDir), planCertificates(plan));
  try {
    for (const name of START_ORDER.filter((item) => wanted.has(item))) {
      const planned = plan.find((item) => item.name === name)!;
      const agent = { ...planned, env: { ...planned.env, ...extraEnv } };
      const flags = profiled.includes(name) ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`, ...extraFlags] : [];
      children.set(name, await startAgent(agent, flags, join(stateDir, 'logs')));
      process.stderr.write(`profile: ${name} up${flags.length > 0 ? ' (profiled)' : ''}\n`);
    }
    const pids = () => Object.fromEntries([...children].map(([name, child]) => [name, child.pid ?? 0]));
    const target: BenchTarget = {
      kind: 'lab',
      host: '127.0.0.1',
      ports,
      ca: await readFile(join(stateDir, 'tls', 'ca.crt'), 'utf8'),
      password: LAB_DEFAULT_PASSWORD,
      mailRoot: join(stateDir, 'mail'),
      usersDir: join(stateDir, 'users'),
      memory: async () => {
        const result: Record<string, ProcessMemory> = {};
        for (const [name, pid] of Object.entries(pids())) {
          const memory = await processMemory(pid);
          if (memory) result[name] = memory;
        }
        return result;
      },
      resetPeaks: () => resetPeaks(Object.values(pids())),
      pid: async (agent) => pids()[agent],
      stop: async () => undefined,
    };
    for (const scenario of options.only) {
      const result = await RUNNERS[scenario]({ options, target, say: (line) => process.stderr.write(`profile: ${line}\n`) });
      process.stdout.write(`${scenario}: ${JSON.stringify(result, (key, value: unknown) => (key === 'peakRssMb' ? undefined : value))}\n`);
    }
  } finally {
    for (const child of children.values()) child.kill('SIGTERM');
    await Promise.all([...children.values()].map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await rm(stateDir, { recursive: true, force: true });
  }
  for (const name of profiled) {
    const dir = join(profileDir, name);
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files.filter((item) => item.endsWith('.cpuprofile'))) {
      const spots = hotSpots(await readProfile(join(dir, file)), `${root}/`);
      process.stdout.write(`\n${name}: ${join(dir, file)} (${spots.totalMs} ms profiled)\n  by function (self):\n`);
      for (const spot of spots.functions) process.stdout.write(`    ${String(spot.percent).padStart(5)}%  ${String(spot.selfMs).padStart(6)} ms  ${spot.name}\n`);
      process.stdout.write('  by file (self):\n');
      for (const spot of spots.files.slice(0, 12)) process.stdout.write(`    ${String(spot.percent).padStart(5)}%  ${String(spot.selfMs).padStart(6)} ms  ${spot.name}\n`);
    }
    if (files.length === 0) process.stdout.write(`\n${name}: no profile written (did it exit on SIGTERM?)\n`);
  }
}

await main();
