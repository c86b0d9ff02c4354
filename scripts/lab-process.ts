/**
 * Starts the no-Docker lab (`scripts/lab.ts`) as a child process on its own loopback
 * network and free host ports, for tests and benchmarks that need the whole chain
 * without colliding with a lab someone already runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_ENDPOINTS, type HostEndpoint } from '../shared/lab.ts';
import { freePort } from '../shared/free-port.ts';
import { warmCompileCache } from './compile-cache.ts';

const START_TIMEOUT_MS = 90_000;
const root = join(import.meta.dirname, '..');

export interface LabProcess {
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** Host port of each DESIGN.md endpoint on 127.0.0.1. */
  ports: Record<HostEndpoint, number>;
  /** The lab CA certificate (PEM). */
  ca: string;
  /** Everything the launcher printed so far. */
  output(): string;
  /** Process id of each agent, from `<stateDir>/pids.json`. */
  pids(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}


type LabOptions = { loopbackNet: string; env?: NodeJS.ProcessEnv; keepState?: boolean };

/** Attempts when a chosen host port was taken by someone else before the lab bound it. */
const PORT_RACE_ATTEMPTS = 3;

/**
 * Host ports are picked free, but the agents bind them seconds later: in that window
 * another program (another test's connection, from the same ephemeral range) may take
 * one. Such a start is tried again on new ports; any other failure is reported at once.
 * The compile cache is filled first, so the launcher's own fill is quick and the window short.
 */
export async function startLabProcess(options: LabOptions): Promise<LabProcess> {
  await warmCompileCache(root);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(options);
    } catch (error) {
      const portTaken = error instanceof LabStartError && /already taken|stopped \(exit 2\)/u.test(error.output);
      if (!portTaken || attempt >= PORT_RACE_ATTEMPTS) throw error;
    }
  }
}

class LabStartError extends Error {
  readonly output: string;
  constructor(output: string) {
    super(`the lab did not come up:\n${output}`);
    this.output = output;
  }
}

async function startOnce(options: LabOptions): Promise<LabProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), 'mxlab-lab-'));
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...options.env, MXLAB_LOOPBACK_NET: options.loopbackNet, MXLAB_STATE_DIR: stateDir };
  const ports = {} as Record<HostEndpoint, number>;
  for (const [name, { env: variable }] of Object.entries(HOST_ENDPOINTS) as [HostEndpoint, { env: string }][]) {
    ports[name] = await freePort();
    env[variable] = String(ports[name]);
  }
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [join(root, 'scripts', 'lab.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let stopping = false;
  let up = false;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    // A launcher that ends on its own after the lab was up takes every agent with it: say so
    // where the test's output shows it, with what the launcher printed.
    if (up && !stopping) process.stderr.write(`mxlab test lab (${options.loopbackNet}) ended on its own (${signal ?? `exit ${code}`}); it printed:\n${output}\n`);
    resolve();
  }));

  const stop = async (): Promise<void> => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await exited;
    }
    if (!options.keepState) await rm(stateDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!output.includes('mxlab is up')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new LabStartError(output);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  up = true;
  return {
    env,
    stateDir,
    ports,
    ca: await readFile(join(stateDir, 'tls', 'ca.crt'), 'utf8'),
    output: () => output,
    pids: async () => JSON.parse(await readFile(join(stateDir, 'pids.json'), 'utf8')) as Record<string, number>,
    stop,
  };
}
