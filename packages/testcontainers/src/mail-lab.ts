/**
 * `new MailLab().withUsers(...).withChaosPlan(...).start()`: the whole mail chain as a
 * compose project of its own (compose/lab.yaml), on a /24 and host ports of its own, so
 * labs run side by side and beside the repository's own `docker compose up`.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerComposeEnvironment, ImageName, Wait, getContainerRuntimeClient, type StartedDockerComposeEnvironment, type WaitStrategy } from 'testcontainers';
import type { ChaosPlan } from './admin.ts';
import { docker } from './docker.ts';
import { StartedMailLab, type LabUser } from './started-mail-lab.ts';
import { networkPrefix, pickSubnet, subnetsInUse } from './subnet.ts';
import { AGENTS, AGENT_SPECS, LAB_PASSWORD, domainOf, type AgentName } from './world.ts';

/** The module's version, and so the agents' image tag it runs by default. */
export const MODULE_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
export const DEFAULT_IMAGE = `mxlab/agents:${MODULE_VERSION}`;
const COMPOSE_DIR = fileURLToPath(new URL('../compose/', import.meta.url));
const COMPOSE_FILE = 'lab.yaml';
/** Ten agents on a busy machine; a healthy start takes a few seconds (README). */
const DEFAULT_STARTUP_TIMEOUT_MS = 120_000;
/** Two labs that chose the same /24 at once: the second picks again. */
const SUBNET_ATTEMPTS = 5;

export class MailLab {
  #image = process.env.MXLAB_AGENTS_IMAGE || DEFAULT_IMAGE;
  #users: LabUser[] = [];
  #plan: ChaosPlan | undefined;
  #subnet: string | undefined;
  #hostAddress = '127.0.0.1';
  #logLevel = 'info';
  #startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS;
  #logDir: string | undefined;
  #webmail = false;

  /** Another agents' image (default `mxlab/agents:<module version>`, or MXLAB_AGENTS_IMAGE). */
  withImage(image: string): this {
    this.#image = image;
    return this;
  }

  /** Users beside alice, bob and carol (password `secret`), on alpha.test or beta.test. */
  withUsers(...users: (LabUser | LabUser[])[]): this {
    for (const user of users.flat()) {
      domainOf(user.address);
      if (user.password.length < 6) throw new Error(`withUsers: the password of ${user.address} needs 6 characters or more`);
      this.#users.push({ address: user.address.toLowerCase(), password: user.password });
    }
    return this;
  }

  /** A fault plan (`{ mtas: { 'beta-mx1': { rules: [...] } } }`) in force from the start. */
  withChaosPlan(plan: ChaosPlan): this {
    for (const name of Object.keys(plan.mtas)) {
      if (!(['alpha-mta', 'beta-mx1', 'beta-mx2'] as string[]).includes(name)) {
        throw new Error(`withChaosPlan: ${JSON.stringify(name)} is not an MTA of the lab (alpha-mta, beta-mx1, beta-mx2)`);
      }
    }
    this.#plan = plan;
    return this;
  }

  /** Also the web mail client (`mua`, `lab.endpoints.mua.http`); off by default, as most tests only send and read. */
  withWebmail(): this {
    this.#webmail = true;
    return this;
  }

  /** The lab's /24 (default: a free 172.28.X.0/24). */
  withSubnet(subnet: string): this {
    networkPrefix(subnet);
    this.#subnet = subnet;
    return this;
  }

  /** Where the host ports are published and reached (default 127.0.0.1; `0.0.0.0` for a remote Docker or tests in a sibling container: then reached at testcontainers' host). */
  withHostAddress(address: string): this {
    this.#hostAddress = address;
    return this;
  }

  /** The agents' pino level (default `info`; `debug` logs every SMTP and IMAP line). */
  withLogLevel(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'): this {
    this.#logLevel = level;
    return this;
  }

  withStartupTimeout(ms: number): this {
    this.#startupTimeoutMs = ms;
    return this;
  }

  /** Where the agents' logs are saved when something fails (default: a folder under the OS temp dir). */
  withLogDir(dir: string): this {
    this.#logDir = dir;
    return this;
  }

  async start(): Promise<StartedMailLab> {
    const startedAt = performance.now();
    await this.#checkImage();
    const project = `mxlab-${randomBytes(4).toString('hex')}`;
    const logDir = this.#logDir ?? join(tmpdir(), project);
    const tried = new Set<string>();
    const agents = AGENTS.filter((agent) => agent !== 'mua' || this.#webmail);
    for (let attempt = 1; ; attempt += 1) {
      const subnet = this.#subnet ?? pickSubnet(await subnetsInUse(), tried);
      tried.add(subnet);
      const env = {
        MXLAB_NET: networkPrefix(subnet),
        MXLAB_AGENTS_IMAGE: this.#image,
        MXLAB_HOST_ADDRESS: this.#hostAddress,
        MXLAB_LOG_LEVEL: this.#logLevel,
      };
      const prepared = performance.now();
      let composeUp: number | undefined;
      const upDone = () => void (composeUp ??= performance.now());
      let failedLogs: Promise<string[]> | undefined;
      const saveLogs = () => (failedLogs ??= saveProjectLogs(project, logDir));
      let environment = new DockerComposeEnvironment(COMPOSE_DIR, COMPOSE_FILE)
        .withProjectName(project)
        .withEnvironment(env)
        .withStartupTimeout(this.#startupTimeoutMs);
      if (this.#webmail) environment = environment.withProfiles('webmail');
      for (const agent of agents) {
        environment = environment.withWaitStrategy(`${agent}-1`, savingLogsOnFailure(agent, readyStrategy(agent), saveLogs, upDone));
      }
      let started: StartedDockerComposeEnvironment;
      try {
        started = await environment.up();
      } catch (error) {
        const message = (error as Error).message;
        const saved = await (failedLogs ?? saveLogs()).catch(() => []);
        // testcontainers downs a project whose wait failed, not one whose `up` failed.
        await composeDown(project, env).catch(() => undefined);
        if (this.#subnet === undefined && attempt < SUBNET_ATTEMPTS && /pool overlaps|address space/iu.test(message)) continue;
        throw new Error(
          `mail lab ${project} on ${subnet} did not start: ${message}` +
            (saved.length > 0 ? `; every agent's log is in ${logDir}` : ''),
          { cause: error },
        );
      }
      // testcontainers waits only for containers that are running when it looks: one that
      // exited at once has no wait, and would surface later as "not running".
      const exited = agents.filter((agent) => {
        try {
          started.getContainer(`${agent}-1`);
          return false;
        } catch {
          return true;
        }
      });
      if (exited.length > 0) {
        const saved = await saveLogs().catch(() => []);
        await started.down({ removeVolumes: true, timeout: 0 }).catch(() => composeDown(project, env).catch(() => undefined));
        throw new Error(
          `mail lab ${project} on ${subnet} did not start: ${exited.join(', ')} stopped as soon as ${exited.length === 1 ? 'it' : 'they'} started` +
            (saved.length > 0 ? `; every agent's log is in ${logDir}` : ''),
        );
      }
      let lab: StartedMailLab | undefined;
      try {
        lab = await StartedMailLab.connect({
          environment: started,
          project,
          subnet,
          hostAddress: this.#hostAddress,
          logDir,
          startedAt,
          users: this.#users,
          agents,
        });
        if (this.#users.length > 0) await lab.addUsers(this.#users);
        if (this.#plan) await lab.loadChaosPlan(this.#plan);
      } catch (error) {
        const saved = await (lab ? lab.saveLogs() : saveLogs()).catch(() => []);
        await started.down({ removeVolumes: true, timeout: 0 }).catch(() => composeDown(project, env).catch(() => undefined));
        throw new Error(`mail lab ${project}: ${(error as Error).message}${saved.length > 0 ? `; every agent's log is in ${logDir}` : ''}`, { cause: error });
      }
      const ready = performance.now();
      lab.markReady(ready - startedAt, {
        prepareMs: prepared - startedAt,
        composeUpMs: (composeUp ?? ready) - prepared,
        agentsReadyMs: ready - (composeUp ?? ready),
      });
      return lab;
    }
  }

  async #checkImage(): Promise<void> {
    const client = await getContainerRuntimeClient();
    try {
      await client.image.inspect(ImageName.fromString(this.#image));
    } catch {
      throw new Error(
        `the agents' image ${this.#image} is not on this Docker host: build it from an mxlab checkout with ` +
          '`bash scripts/build-agents-image.sh`, or name another with withImage() / MXLAB_AGENTS_IMAGE',
      );
    }
  }
}

/** `docker compose down --volumes` of a project whose start failed half way. */
export async function composeDown(project: string, env: Record<string, string>): Promise<void> {
  await docker(['compose', '--project-name', project, '--file', join(COMPOSE_DIR, COMPOSE_FILE), 'down', '--volumes', '--timeout', '2'], { env });
}

function readyStrategy(agent: AgentName): WaitStrategy {
  const { pattern, count } = AGENT_SPECS[agent].ready;
  return Wait.forLogMessage(pattern, count);
}

/** A wait strategy that saves every agent's log before testcontainers tears a failed start down. */
function savingLogsOnFailure(agent: AgentName, inner: WaitStrategy, save: () => Promise<unknown>, started: () => void): WaitStrategy {
  const strategy: WaitStrategy = {
    async waitUntilReady(container, boundPorts, startTime) {
      started();
      try {
        await inner.waitUntilReady(container, boundPorts, startTime);
      } catch (error) {
        await save().catch(() => undefined);
        throw new Error(`${agent} did not start serving (${(error as Error).message})`, { cause: error });
      }
    },
    withStartupTimeout(ms) {
      inner.withStartupTimeout(ms);
      return strategy;
    },
    isStartupTimeoutSet: () => inner.isStartupTimeoutSet(),
    getStartupTimeout: () => inner.getStartupTimeout(),
  };
  return strategy;
}

/** `<dir>/<agent>.log` for every container of the project, read with the docker CLI. */
export async function saveProjectLogs(project: string, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const lines = await docker(['ps', '--all', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.ID}} {{.Label "com.docker.compose.service"}}']);
  const saved: string[] = [];
  for (const line of lines.split('\n').filter((entry) => entry !== '')) {
    const [id, service] = line.split(' ');
    if (!id || !service) continue;
    const path = join(dir, `${service}.log`);
    const text = await docker(['logs', '--timestamps', id], { merge: true }).catch((error: Error) => `could not read the log: ${error.message}\n`);
    await writeFile(path, text);
    saved.push(path);
  }
  return saved;
}

export { LAB_PASSWORD };
