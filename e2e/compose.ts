/**
 * The `docker compose` CLI for one project (its files, name and environment): stop and
 * start a service, run a command in it, and save every container's logs. Bringing the
 * stack up and down is testcontainers' job (fixture.ts); this covers what it lacks.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One compose command; `up`/`down` are testcontainers', so these stay short. */
const COMMAND_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** A restarted agent passes its health check within a few intervals (5 s, Dockerfile). */
const HEALTHY_TIMEOUT_MS = 180_000;
const HEALTH_POLL_MS = 1_000;

export interface ComposeProject {
  /** Folder of the compose files (the mxlab checkout). */
  dir: string;
  files: readonly string[];
  projectName: string;
  env: NodeJS.ProcessEnv;
}

export class Compose {
  readonly project: ComposeProject;

  constructor(project: ComposeProject) {
    this.project = project;
  }

  run(args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
    const { dir, files, projectName, env } = this.project;
    const full = ['compose', '-p', projectName, ...files.flatMap((file) => ['-f', file]), ...args];
    return new Promise((resolve, reject) => {
      execFile(
        'docker',
        full,
        { cwd: dir, env, timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`docker ${full.join(' ')}: ${error.message}\n${stderr}`, { cause: error }));
          else resolve(stdout);
        },
      );
    });
  }

  async stop(service: string): Promise<void> {
    await this.run(['stop', '--timeout', '10', service]);
  }

  /**
   * SIGKILL to the service's main process from the host, as kill -9 or the OOM killer do, so
   * its restart policy brings it back. (`docker kill` counts as a manual stop, after which
   * Docker does not restart the container.) Needs the right to signal it: root on the host.
   */
  async kill(service: string): Promise<void> {
    const id = (await this.run(['ps', '--quiet', service])).trim().split('\n')[0];
    if (!id) throw new Error(`${service} has no running container to kill`);
    const pid = Number(await this.inspect(id, '{{.State.Pid}}'));
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${service}: no main process (pid ${pid})`);
    process.kill(pid, 'SIGKILL');
  }

  private inspect(id: string, format: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('docker', ['inspect', '--format', format, id], { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout) =>
        error ? reject(error) : resolve(stdout.trim()),
      );
    });
  }

  /** Waits until the service's health check passes (after a restart); `running` for one without a health check (CoreDNS). */
  async waitHealthy(service: string, timeoutMs = HEALTHY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let health = '';
    while (Date.now() < deadline) {
      health = await this.health(service).catch(() => 'unknown');
      if (health === 'healthy' || health === 'running') return;
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
    throw new Error(`${service} not healthy after ${timeoutMs} ms (${health})`);
  }

  /** Starts a stopped service and waits until its health check passes. */
  async start(service: string, timeoutMs = HEALTHY_TIMEOUT_MS): Promise<void> {
    await this.run(['start', service]);
    await this.waitHealthy(service, timeoutMs);
  }

  /** The health status of the service's container (`healthy`, `starting`, …). */
  async health(service: string): Promise<string> {
    const id = (await this.run(['ps', '--all', '--quiet', service])).trim().split('\n')[0];
    if (!id) return 'missing';
    return new Promise((resolve, reject) => {
      execFile(
        'docker',
        ['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}', id],
        { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' },
        (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
      );
    });
  }

  exec(service: string, command: readonly string[]): Promise<string> {
    return this.run(['exec', '-T', service, ...command]);
  }

  async services(): Promise<string[]> {
    return (await this.run(['config', '--services'])).split('\n').filter((line) => line !== '');
  }

  /** Writes `<dir>/<service>.log` for every service (stdout and stderr, with times). */
  async saveLogs(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const saved: string[] = [];
    for (const service of await this.services()) {
      const path = join(dir, `${service}.log`);
      try {
        await writeFile(path, await this.run(['logs', '--no-color', '--timestamps', service]));
      } catch (error) {
        await writeFile(path, `could not read the logs: ${(error as Error).message}\n`);
      }
      saved.push(path);
    }
    return saved;
  }
}
