/**
 * What the benchmarks run against. `lab`: the no-Docker lab started here as a child
 * process on its own loopback network (127.30.0.X) and free host ports, with its state
 * directory at hand (Maildirs, users) and each agent's pid for its memory. `compose`: a
 * running compose stack's published ports on 127.0.0.1, memory from `docker stats`.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hostPort, HOST_ENDPOINTS, LAB_DEFAULT_PASSWORD, type HostEndpoint } from '../../shared/lab.ts';
import { startLabProcess } from '../../scripts/lab-process.ts';
import { dockerMemory, processMemory, resetPeaks, type ProcessMemory } from './memory.ts';

const run = promisify(execFile);
/** The lab's loopback net (BENCH_LOOPBACK_NET overrides it, to keep clear of another run). */
export const BENCH_LOOPBACK_NET = process.env.BENCH_LOOPBACK_NET ?? '127.30';

export interface BenchTarget {
  kind: 'lab' | 'compose';
  host: string;
  ports: Record<HostEndpoint, number>;
  ca: string;
  password: string;
  /** Lab only: where Maildirs and user files live. */
  mailRoot: string | undefined;
  usersDir: string | undefined;
  /** Memory of each agent now (peak since the last reset on Linux; current in compose). */
  memory(): Promise<Record<string, ProcessMemory>>;
  /** Starts a new peak window; false when peaks cannot be reset (they are then since start). */
  resetPeaks(): Promise<boolean>;
  pid(agent: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** For a run of scenarios that start their own lab (labstart): no lab behind it. */
export function noTarget(): BenchTarget {
  return {
    kind: 'lab',
    host: '127.0.0.1',
    ports: {} as Record<HostEndpoint, number>,
    ca: '',
    password: '',
    mailRoot: undefined,
    usersDir: undefined,
    memory: async () => ({}),
    resetPeaks: async () => false,
    pid: async () => undefined,
    stop: async () => undefined,
  };
}

export async function startLabTarget(env: NodeJS.ProcessEnv = {}): Promise<BenchTarget> {
  const keepState = process.env.BENCH_KEEP_STATE === '1';
  const lab = await startLabProcess({ loopbackNet: BENCH_LOOPBACK_NET, keepState, env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...env } });
  if (keepState) process.stderr.write(`bench: lab state (kept): ${lab.stateDir}\n`);
  const pids = async () => lab.pids();
  return {
    kind: 'lab',
    host: '127.0.0.1',
    ports: lab.ports,
    ca: lab.ca,
    password: lab.env.MXLAB_PASSWORD ?? LAB_DEFAULT_PASSWORD,
    mailRoot: join(lab.stateDir, 'mail'),
    usersDir: join(lab.stateDir, 'users'),
    memory: async () => {
      const result: Record<string, ProcessMemory> = {};
      for (const [agent, pid] of Object.entries(await pids())) {
        const memory = await processMemory(pid);
        if (memory) result[agent] = memory;
      }
      return result;
    },
    resetPeaks: async () => resetPeaks(Object.values(await pids())),
    pid: async (agent) => (await pids())[agent],
    stop: async () => {
      const exitedEarly = lab.output().includes('stopped');
      await lab.stop();
      if (exitedEarly) process.stderr.write(`bench: the lab reported:\n${lab.output().split('\n').filter((line) => /mxlab:/u.test(line)).join('\n')}\n`);
    },
  };
}

/** `mxlab-beta-mx1-1` (compose's project-service-index) → `beta-mx1`. */
export function agentOfContainer(name: string): string {
  return name.replace(/^.*?[-_](?=(alpha|beta|caller|dns|mua))/u, '').replace(/[-_]\d+$/u, '');
}

async function composeCa(caFile: string | undefined): Promise<string> {
  if (caFile) return readFile(caFile, 'utf8');
  try {
    const { stdout } = await run('docker', ['compose', 'exec', '-T', 'alpha-mta', 'cat', '/var/lib/mxlab/tls/ca.crt'], { cwd: join(import.meta.dirname, '..', '..') });
    return stdout;
  } catch (error) {
    throw new Error(`cannot read the lab CA from the compose stack (${(error as Error).message.split('\n')[0]}); pass --ca FILE`, { cause: error });
  }
}

export async function composeTarget(caFile: string | undefined): Promise<BenchTarget> {
  const ports = Object.fromEntries((Object.keys(HOST_ENDPOINTS) as HostEndpoint[]).map((name) => [name, hostPort(name)])) as Record<HostEndpoint, number>;
  const hasDocker = await run('docker', ['version', '--format', '{{.Server.Version}}']).then(
    () => true,
    () => false,
  );
  return {
    kind: 'compose',
    host: '127.0.0.1',
    ports,
    ca: await composeCa(caFile),
    password: process.env.MXLAB_PASSWORD ?? LAB_DEFAULT_PASSWORD,
    mailRoot: undefined,
    usersDir: undefined,
    memory: async () => {
      if (!hasDocker) return {};
      const result: Record<string, ProcessMemory> = {};
      for (const [name, usedMb] of Object.entries(await dockerMemory())) {
        result[agentOfContainer(name)] = { rssMb: usedMb, peakMb: usedMb };
      }
      return result;
    },
    resetPeaks: async () => false,
    pid: async () => undefined,
    stop: async () => undefined,
  };
}
