/**
 * A running lab: its endpoints and CA, and what a test does with it (send, wait, read,
 * look at and empty queues, break things, stop and start agents, reset, logs, stop).
 */
import { join } from 'node:path';
import { getContainerRuntimeClient, Wait, type StartedDockerComposeEnvironment } from 'testcontainers';
import { AdminClient, ChaosControl, type ChaosPlan, type QueuedMessage } from './admin.ts';
import { docker } from './docker.ts';
import { connectHost } from './host.ts';
import { emptyMailbox, readFolder, submit, waitForMessage, type Credentials, type LabMessage, type Mail, type MessageFilter, type SentMail, type TlsEndpoint } from './mail.ts';
import { AGENTS, AGENT_SPECS, DOMAINS, LAB_PASSWORD, LAB_USERS, MTAS, domainOf, type AgentName, type MtaName, type Protocol, type TlsMode } from './world.ts';

type AgentContainer = ReturnType<StartedDockerComposeEnvironment['getContainer']>;

export interface LabUser {
  address: string;
  password: string;
}

export interface Endpoint {
  host: string;
  port: number;
  tls: TlsMode;
  /** The name to check the certificate against (`servername`), for TLS endpoints. */
  servername?: string;
}

/** Per agent, per protocol: `lab.endpoints['alpha-mta'].submission`. DNS has `dns` (UDP) and `dnsTcp`. */
export type LabEndpoints = Record<AgentName, Partial<Record<Protocol | 'dnsTcp', Endpoint>>>;

/** What reset() removed and how long it took: the fault rules, the queues, then the mailboxes over IMAP. */
export interface ResetResult {
  ms: number;
  messages: number;
  queued: number;
  phases: { chaosMs: number; queuesMs: number; mailboxesMs: number };
}

export interface WaitForMessageOptions {
  /** The mailbox owner, e.g. `bob@beta.test`. */
  mailbox: string;
  /** Default `INBOX`; spam lands in `Junk`. */
  folder?: string;
  where?: MessageFilter;
  /** Default 30 000 ms. */
  timeoutMs?: number;
}

const DEFAULT_WAIT_MS = 30_000;
const QUEUE_POLL_MS = 100;
/** reset(): rounds of emptying the three queues, and the pause while a message is in flight. */
const DRAIN_ROUNDS = 50;
const DRAIN_PAUSE_MS = 20;
const AGENT_START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_S = 5;

const SERVERNAMES: Partial<Record<AgentName, Partial<Record<Protocol, string>>>> = {
  'alpha-mta': { smtp: 'mx.alpha.test', submission: 'smtp.alpha.test', submissions: 'smtp.alpha.test' },
  'beta-mx1': { smtp: 'mx1.beta.test', submission: 'smtp.beta.test', submissions: 'smtp.beta.test' },
  'beta-mx2': { smtp: 'mx2.beta.test' },
  'alpha-mra': { imap: 'imap.alpha.test', imaps: 'imap.alpha.test', pop3: 'pop.alpha.test', pop3s: 'pop.alpha.test' },
  'beta-mra': { imap: 'imap.beta.test', imaps: 'imap.beta.test', pop3: 'pop.beta.test', pop3s: 'pop.beta.test' },
};

interface ConnectOptions {
  environment: StartedDockerComposeEnvironment;
  project: string;
  subnet: string;
  hostAddress: string;
  logDir: string;
  startedAt: number;
  users: LabUser[];
  /** The agents this lab runs (every one of AGENTS, `mua` with withWebmail() only). */
  agents: readonly AgentName[];
}

export class StartedMailLab {
  /** The compose project (`mxlab-1a2b3c4d`): `docker compose -p <project> ps` shows it. */
  readonly project: string;
  /** The lab's /24; each agent keeps compose.yaml's host number on it (beta-mx1 is .20). */
  readonly subnet: string;
  readonly endpoints: LabEndpoints;
  /** The lab CA (PEM) that signed every agent's certificate. */
  readonly ca: string;
  /** Where `saveLogs()` writes, and where a failure's logs are. */
  readonly logDir: string;
  /** Milliseconds from `start()` to every agent serving. */
  startupMs = 0;
  /**
   * Where they went: checks and the subnet choice; `docker compose up` (network, volumes,
   * the certs one-shot, every container started); then until the last agent served, users
   * and fault plan included.
   */
  startupPhases = { prepareMs: 0, composeUpMs: 0, agentsReadyMs: 0 };

  readonly #environment: StartedDockerComposeEnvironment;
  readonly #containers: Partial<Record<AgentName, AgentContainer>>;
  readonly #agents: readonly AgentName[];
  readonly #host: string;
  readonly #passwords = new Map<string, string>();
  readonly #admins: Record<MtaName, AdminClient>;
  readonly #stopped = new Set<AgentName>();

  private constructor(options: ConnectOptions, containers: Partial<Record<AgentName, AgentContainer>>, host: string, ca: string) {
    this.project = options.project;
    this.subnet = options.subnet;
    this.logDir = options.logDir;
    this.#environment = options.environment;
    this.#containers = containers;
    this.#agents = options.agents;
    this.#host = host;
    this.ca = ca;
    for (const user of LAB_USERS) this.#passwords.set(user, LAB_PASSWORD);
    this.endpoints = Object.fromEntries(AGENTS.map((agent) => [agent, {}])) as LabEndpoints;
    for (const agent of options.agents) this.#mapPorts(agent, (port, transport) => this.#container(agent).getMappedPort(port, transport));
    this.#admins = Object.fromEntries(
      MTAS.map((mta) => [mta, new AdminClient(mta, () => `http://${this.#endpoint(mta, 'admin').host}:${this.#endpoint(mta, 'admin').port}`)]),
    ) as Record<MtaName, AdminClient>;
  }

  /** @internal MailLab.start() */
  static async connect(options: ConnectOptions): Promise<StartedMailLab> {
    const containers: Partial<Record<AgentName, AgentContainer>> = Object.fromEntries(options.agents.map((agent) => [agent, options.environment.getContainer(`${agent}-1`)]));
    const mta = containers['alpha-mta'];
    if (!mta) throw new Error('the lab has no alpha-mta');
    const host = connectHost(mta.getHost(), options.hostAddress);
    const ca = await mta.exec(['cat', '/var/lib/mxlab/tls/ca.crt']);
    if (ca.exitCode !== 0) throw new Error(`alpha-mta has no lab CA: ${ca.output}`);
    return new StartedMailLab(options, containers, host, ca.stdout);
  }

  /** @internal */
  markReady(ms: number, phases: { prepareMs: number; composeUpMs: number; agentsReadyMs: number }): void {
    this.startupMs = Math.round(ms);
    this.startupPhases = { prepareMs: Math.round(phases.prepareMs), composeUpMs: Math.round(phases.composeUpMs), agentsReadyMs: Math.round(phases.agentsReadyMs) };
  }

  /** Submits over STARTTLS + AUTH to the sender's domain (alpha-mta for alpha.test, beta-mx1 for beta.test). */
  sendMail(mail: Mail): Promise<SentMail> {
    const domain = DOMAINS[domainOf(mail.from)];
    return submit(this.#tls(domain.submission, 'submission'), mail.auth ?? this.#credentials(mail.from), mail);
  }

  /** Every message of a folder of the mailbox, read over IMAP. */
  messages(mailbox: string, folder = 'INBOX'): Promise<LabMessage[]> {
    return readFolder(this.#imap(mailbox), this.#credentials(mailbox), folder);
  }

  /**
   * The first message in the folder that passes `where` (all of them if absent), those
   * already there included; new ones are announced by the MRA over IMAP IDLE.
   */
  async waitForMessage(options: WaitForMessageOptions): Promise<LabMessage> {
    const folder = options.folder ?? 'INBOX';
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const result = await waitForMessage(this.#imap(options.mailbox), this.#credentials(options.mailbox), folder, options.where, timeoutMs);
    if (result.message) return result.message;
    const saved = await this.saveLogs().catch(() => []);
    throw new Error(
      `no message for ${options.mailbox} in ${folder} matched within ${timeoutMs} ms (${result.seen} seen); ` +
        `the queues: ${await this.#queueSummary()}${saved.length > 0 ? `; every agent's log is in ${this.logDir}` : ''}`,
    );
  }

  /** The MTA's queue, as its admin API shows it. */
  queue(mta: MtaName): Promise<QueuedMessage[]> {
    return this.#admin(mta).queue();
  }

  /**
   * The first message in the MTA's queue that passes `where` (any if absent), asked of
   * its admin API every 100 ms: how a test sees the backup MX hold mail for the primary.
   */
  async waitForQueue(mta: MtaName, options: { where?: (message: QueuedMessage) => boolean; timeoutMs?: number } = {}): Promise<QueuedMessage> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + timeoutMs;
    let last: QueuedMessage[] = [];
    while (Date.now() < deadline) {
      last = await this.queue(mta);
      const found = last.find(options.where ?? (() => true));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, QUEUE_POLL_MS));
    }
    const saved = await this.saveLogs().catch(() => []);
    throw new Error(
      `no message in ${mta}'s queue matched within ${timeoutMs} ms (${last.length} queued); ` +
        `the queues: ${await this.#queueSummary()}${saved.length > 0 ? `; every agent's log is in ${this.logDir}` : ''}`,
    );
  }

  /** Tries every message of the MTA's queue now. */
  flushQueue(mta: MtaName): Promise<void> {
    return this.#admin(mta).flush();
  }

  /** The MTA's fault plan: `await lab.chaos('beta-mx1').add({ stage: 'rcpt', reply: { code: 451 } })`. */
  chaos(mta: MtaName): ChaosControl {
    return new ChaosControl(this.#admin(mta));
  }

  /** Replaces the plan of every MTA the lab plan names. */
  async loadChaosPlan(plan: ChaosPlan): Promise<void> {
    for (const [mta, entry] of Object.entries(plan.mtas)) {
      if (entry) await this.chaos(mta as MtaName).replace(entry.rules);
    }
  }

  /** Stops one agent's container (`docker stop`), as an outage: beta-mx1 down sends mail to the backup MX. */
  async stopAgent(agent: AgentName): Promise<void> {
    const client = await getContainerRuntimeClient();
    await client.container.stop(client.container.getById(this.#container(agent).getId()), { timeout: STOP_TIMEOUT_S * 1000 });
    this.#stopped.add(agent);
  }

  /** Starts a stopped agent again and waits until it serves; its host ports may change (endpoints follow). */
  async startAgent(agent: AgentName): Promise<void> {
    const client = await getContainerRuntimeClient();
    const container = client.container.getById(this.#container(agent).getId());
    const startTime = new Date();
    await client.container.start(container);
    const { pattern, count } = AGENT_SPECS[agent].ready;
    const inspect = await client.container.inspect(container);
    try {
      // The strategy itself, not waitForContainer(), which removes a container that fails to start.
      await Wait.forLogMessage(pattern, count).withStartupTimeout(AGENT_START_TIMEOUT_MS).waitUntilReady(container, undefined as never, startTime);
    } catch (error) {
      const saved = await this.saveLogs().catch(() => []);
      throw new Error(`${agent} did not serve again: ${(error as Error).message}${saved.length > 0 ? `; its log is ${join(this.logDir, `${agent}.log`)}` : ''}`, { cause: error });
    }
    const ports = inspect.NetworkSettings.Ports ?? {};
    this.#mapPorts(agent, (port, transport) => {
      const binding = ports[`${port}/${transport}`]?.[0];
      if (!binding) throw new Error(`${agent} publishes no ${port}/${transport} after its restart`);
      return Number(binding.HostPort);
    });
    this.#stopped.delete(agent);
  }

  /** Adds a user (or changes its password) on alpha.test or beta.test; seen by every agent within a second. */
  async addUser(address: string, password: string): Promise<void> {
    await this.addUsers([{ address, password }]);
  }

  /** @internal withUsers() */
  async addUsers(users: readonly LabUser[]): Promise<void> {
    const script = users.map((_, i) => `printf '%s\\n' "$MXLAB_PW_${i}" | node scripts/users.ts ${usersCommand(users[i] as LabUser, this.#passwords)} "$MXLAB_USER_${i}"`).join(' && ');
    const env: Record<string, string> = {};
    users.forEach((user, i) => {
      domainOf(user.address);
      env[`MXLAB_PW_${i}`] = user.password;
      env[`MXLAB_USER_${i}`] = user.address.toLowerCase();
    });
    const result = await this.#container('alpha-mta').exec(['bash', '-c', script], { env: { ...env, MXLAB_USERS_DIR: '/var/lib/mxlab/lab-users' } });
    if (result.exitCode !== 0) throw new Error(`adding ${users.map((user) => user.address).join(', ')} failed: ${result.output.trim()}`);
    for (const user of users) this.#passwords.set(user.address.toLowerCase(), user.password);
    // The agents re-read a changed user file within a second (shared/users.ts).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  }

  /**
   * Every mailbox and every queue emptied and every fault rule removed, so the next test
   * starts clean without a restart (well under a second). Agents stopped with stopAgent()
   * are started again first, which takes longer.
   */
  async reset(): Promise<ResetResult> {
    const begin = performance.now();
    for (const agent of [...this.#stopped]) await this.startAgent(agent);
    await Promise.all(MTAS.map((mta) => this.#admin(mta).request('DELETE', '/chaos/rules')));
    const chaosDone = performance.now();
    // Queues first, until all three are empty at once: a message in flight between two
    // MTAs when its entry is deleted lands in the next one's queue, or in a mailbox.
    const queued = await this.#drainQueues();
    const queuesDone = performance.now();
    const counts = await Promise.all([...this.#passwords.keys()].map((user) => emptyMailbox(this.#imap(user), this.#credentials(user))));
    const end = performance.now();
    return {
      ms: Math.round(end - begin),
      messages: counts.reduce((a, b) => a + b, 0),
      queued,
      phases: { chaosMs: Math.round(chaosDone - begin), queuesMs: Math.round(queuesDone - chaosDone), mailboxesMs: Math.round(end - queuesDone) },
    };
  }

  async #drainQueues(): Promise<number> {
    let deleted = 0;
    for (let round = 1; round <= DRAIN_ROUNDS; round += 1) {
      // A deleted entry's delivery attempt goes on (and may land at the next hop): the
      // MTA's in-flight count shows it when no queue does any more.
      const queues = await Promise.all(
        MTAS.map(async (mta) => ({ mta, messages: await this.queue(mta), inFlight: await this.#admin(mta).inFlight() })),
      );
      if (queues.every(({ messages, inFlight }) => messages.length === 0 && inFlight === 0)) return deleted;
      const counts = await Promise.all(queues.map(({ mta, messages }) => (messages.length === 0 ? 0 : this.#admin(mta).emptyQueue())));
      deleted += counts.reduce((a, b) => a + b, 0);
      if (queues.some(({ inFlight }) => inFlight > 0)) await new Promise((resolve) => setTimeout(resolve, DRAIN_PAUSE_MS));
    }
    throw new Error(`reset: the queues were still not empty after ${DRAIN_ROUNDS} rounds (${await this.#queueSummary()})`);
  }

  /** One agent's log (its JSON lines, stdout and stderr, with Docker's timestamps). */
  async logs(agent: AgentName): Promise<string> {
    const text = await docker(['logs', '--timestamps', this.#container(agent).getId()], { merge: true });
    return text.split('\n').filter((line) => line !== '').sort().join('\n') + '\n';
  }

  /** Writes `<dir>/<agent>.log` for every agent (default dir: `lab.logDir`); the paths. */
  async saveLogs(dir = this.logDir): Promise<string[]> {
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    return Promise.all(
      this.#agents.map(async (agent) => {
        const path = join(dir, `${agent}.log`);
        await writeFile(path, await this.logs(agent).catch((error: Error) => `could not read the log: ${error.message}\n`));
        return path;
      }),
    );
  }

  /** Removes the lab: its containers, network and volumes. */
  async stop(): Promise<void> {
    await this.#environment.down({ removeVolumes: true, timeout: STOP_TIMEOUT_S * 1000 });
  }

  #mapPorts(agent: AgentName, mapped: (port: number, transport: 'tcp' | 'udp') => number): void {
    const target = this.endpoints[agent];
    for (const spec of AGENT_SPECS[agent].ports) {
      const transport = spec.transport ?? 'tcp';
      const key = spec.protocol === 'dns' && transport === 'tcp' ? 'dnsTcp' : spec.protocol;
      const servername = SERVERNAMES[agent]?.[spec.protocol];
      target[key] = { host: this.#host, port: mapped(spec.port, transport), tls: spec.tls, ...(servername ? { servername } : {}) };
    }
  }

  #container(agent: AgentName): AgentContainer {
    const container = this.#containers[agent];
    if (!container) throw new Error(`this lab runs no ${agent}${agent === 'mua' ? ' (withWebmail() adds it)' : ''}`);
    return container;
  }

  #endpoint(agent: AgentName, protocol: Protocol): Endpoint {
    const endpoint = this.endpoints[agent][protocol];
    if (!endpoint) throw new Error(`${agent} has no ${protocol} endpoint`);
    return endpoint;
  }

  #tls(agent: AgentName, protocol: Protocol): TlsEndpoint {
    const endpoint = this.#endpoint(agent, protocol);
    return { host: endpoint.host, port: endpoint.port, servername: endpoint.servername ?? '', ca: this.ca };
  }

  #imap(mailbox: string): TlsEndpoint {
    return this.#tls(DOMAINS[domainOf(mailbox)].mra, 'imap');
  }

  #credentials(address: string): Credentials {
    const user = address.toLowerCase();
    const pass = this.#passwords.get(user);
    if (pass === undefined) throw new Error(`${address} is not a user of this lab (users: ${[...this.#passwords.keys()].join(', ')}); add it with addUser()`);
    return { user, pass };
  }

  #admin(mta: MtaName): AdminClient {
    const admin = this.#admins[mta];
    if (!admin) throw new Error(`${JSON.stringify(mta)} is not an MTA of the lab (${MTAS.join(', ')})`);
    return admin;
  }

  async #queueSummary(): Promise<string> {
    const parts = await Promise.all(
      MTAS.map(async (mta) => {
        if (this.#stopped.has(mta)) return `${mta} stopped`;
        const queued = await this.queue(mta).catch((error: Error) => error.message);
        return typeof queued === 'string' ? `${mta}: ${queued}` : `${mta} ${queued.length} queued`;
      }),
    );
    return parts.join(', ');
  }
}

function usersCommand(user: LabUser, known: Map<string, string>): 'add' | 'passwd' {
  return known.has(user.address.toLowerCase()) ? 'passwd' : 'add';
}
