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

  /** Starts a stopped service and waits until its health check passes. */
  async start(service: string, timeoutS = 180): Promise<void> {
    await this.run(['start', '--wait', '--wait-timeout', String(timeoutS), service], (timeoutS + 30) * 1000);
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
