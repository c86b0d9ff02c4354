/**
 * A running mail lab for this repository's end-to-end tests (other projects install
 * @mxlab/testcontainers, packages/testcontainers, instead): `startMailLab()`
 * brings the compose stack up with testcontainers (DockerComposeEnvironment), waits for
 * every agent's health check, and hands back its host endpoints, the lab CA, and helpers
 * to send a message, wait for one in a mailbox, and read an MTA's queue.
 *
 *   const lab = await startMailLab();
 *   await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'hi', text: 'hello' });
 *   const message = await lab.waitForMessage('bob@beta.test', (m) => m.parsed.subject === 'hi');
 *   await lab.stop();
 *
 * With MXLAB_COMPOSE_OFFLINE=1 (set by scripts/docker-setup.sh's callers) it adds
 * compose.offline.yaml: locally built base images and BIND 9 instead of CoreDNS.
 */
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import { HOST_ENDPOINTS, LAB_DEFAULT_PASSWORD, hostPort, type HostEndpoint } from '../shared/lab.ts';
import { Compose } from './compose.ts';
import { pop3Messages } from './pop3.ts';

/** Building the images and starting ten containers on two busy cores takes minutes. */
const STARTUP_TIMEOUT_MS = 15 * 60_000;
const WAIT_FOR_MESSAGE_TIMEOUT_MS = 90_000;
const MAILBOX_POLL_MS = 1_000;
const DOWN_TIMEOUT_MS = 10_000;

export const MTA_SERVICES = ['alpha-mta', 'beta-mx1', 'beta-mx2'] as const;
export type MtaService = (typeof MTA_SERVICES)[number];

export interface StartMailLabOptions {
  /** The mxlab checkout holding compose.yaml; default: this repository. */
  projectDir?: string;
  /** Add compose.offline.yaml; default: MXLAB_COMPOSE_OFFLINE=1. */
  offline?: boolean;
  /** Compose project name; default `mxlab-e2e`. */
  projectName?: string;
  /** Extra compose variables, e.g. `{ MXLAB_ALPHA_SUBMISSION_PORT: '11587' }`. */
  env?: Record<string, string>;
  /** Build the agents' image before starting (default true). */
  build?: boolean;
  /** Where every container's log is saved when the stack fails to start. */
  logDirOnFailure?: string;
  /** More compose files after compose.yaml (and compose.offline.yaml), relative to projectDir. */
  extraFiles?: string[];
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface LabMail {
  from: string;
  to: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: { filename: string; content: string | Buffer }[];
  /** A whole RFC 5322 message instead of from/subject/text. */
  raw?: string;
  /** Login for submission; default: the sender with the lab password. */
  auth?: { user: string; pass: string };
}

export interface LabMessage {
  uid: number;
  mailbox: string;
  source: string;
  parsed: ParsedMail;
}

export interface QueuedMessage {
  queueId: string;
  from: string;
  messageId?: string;
  recipients: { recipient: string; status: string; attempts: number; lastReply?: string }[];
}

export interface MailLab {
  endpoints: Record<HostEndpoint, Endpoint>;
  /** The lab CA (PEM) that signs every agent's certificate. */
  ca: string;
  password: string;
  compose: Compose;
  /** Submits over STARTTLS + AUTH to the sender's domain (alpha-mta or beta-mx1). */
  sendMail(mail: LabMail): Promise<{ messageId: string; response: string }>;
  /** Every message of a user's mailbox, read over IMAP (STARTTLS). */
  messages(user: string, mailbox?: string): Promise<LabMessage[]>;
  /** Polls the user's mailbox over IMAP until a message matches. */
  waitForMessage(
    user: string,
    predicate: (message: LabMessage) => boolean,
    options?: { mailbox?: string; timeoutMs?: number },
  ): Promise<LabMessage>;
  /** Every message of a user's mailbox, read over POP3S. */
  pop3Messages(user: string): Promise<string[]>;
  /** The MTA's queue as its admin API (`GET /queue`) shows it. */
  queue(mta: MtaService): Promise<QueuedMessage[]>;
  /** Asks the MTA to try every queued message now (`POST /queue/flush`). */
  flushQueue(mta: MtaService): Promise<void>;
  /** Saves every container's logs to `<dir>/<service>.log`. */
  saveLogs(dir: string): Promise<string[]>;
  /** Stops the stack and removes its containers, network and volumes. */
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

function domainOf(user: string): 'alpha' | 'beta' {
  const domain = user.slice(user.lastIndexOf('@') + 1).toLowerCase();
  if (domain === 'alpha.test') return 'alpha';
  if (domain === 'beta.test') return 'beta';
  throw new Error(`not a lab address: ${user}`);
}

function endpointsFrom(env: NodeJS.ProcessEnv): Record<HostEndpoint, Endpoint> {
  const host = env.MXLAB_HOST_ADDRESS && env.MXLAB_HOST_ADDRESS !== '0.0.0.0' ? env.MXLAB_HOST_ADDRESS : '127.0.0.1';
  const names = Object.keys(HOST_ENDPOINTS) as HostEndpoint[];
  return Object.fromEntries(names.map((name) => [name, { host, port: hostPort(name, env) }])) as Record<
    HostEndpoint,
    Endpoint
  >;
}

/**
 * Runs a small script with node inside an MTA container against its admin API, with the
 * container's MXLAB_ADMIN_TOKEN as bearer token when compose gave it one.
 */
async function adminRequest(compose: Compose, mta: MtaService, method: string, path: string): Promise<unknown> {
  const script = `const token = process.env.MXLAB_ADMIN_TOKEN;
    fetch('http://127.0.0.1:8026${path}', { method: '${method}', headers: token ? { authorization: 'Bearer ' + token } : {} })
    .then(async (r) => { const t = await r.text(); if (!r.ok) throw new Error(r.status + ' ' + t); process.stdout.write(t); })
    .catch((e) => { console.error(e.message); process.exit(1); });`;
  return JSON.parse(await compose.exec(mta, ['node', '-e', script])) as unknown;
}

export async function startMailLab(options: StartMailLabOptions = {}): Promise<MailLab> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  const dir = options.projectDir ?? join(here, '..');
  const offline = options.offline ?? process.env.MXLAB_COMPOSE_OFFLINE === '1';
  const files = [...(offline ? ['compose.yaml', 'compose.offline.yaml'] : ['compose.yaml']), ...(options.extraFiles ?? [])];
  const projectName = options.projectName ?? 'mxlab-e2e';
  const env = { ...process.env, ...options.env };
  const compose = new Compose({ dir, files, projectName, env });

  let environment = new DockerComposeEnvironment(dir, files)
    .withProjectName(projectName)
    .withEnvironment(options.env ?? {})
    .withAutoCleanup(false)
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    // Agents and BIND have health checks (chosen by default); the CoreDNS image has no
    // shell to probe with, so its start line is the signal.
    .withWaitStrategy('dns-1', offline ? Wait.forHealthCheck() : Wait.forLogMessage(/CoreDNS-/u))
    // compose itself waits for health, so a failed start leaves the containers for their logs.
    .withClientOptions({ commandOptions: ['--wait', '--wait-timeout', String(STARTUP_TIMEOUT_MS / 1000)] });
  if (options.build ?? true) environment = environment.withBuild();
  // A run that was killed leaves its containers and volumes; start from nothing.
  await compose.run(['down', '--volumes', '--remove-orphans', '--timeout', '10']);
  let started: Awaited<ReturnType<typeof environment.up>>;
  try {
    started = await environment.up();
  } catch (error) {
    await compose.saveLogs(options.logDirOnFailure ?? join(dir, 'artifacts', 'e2e', 'startup')).catch(() => []);
    await compose.run(['down', '--volumes', '--timeout', '10']).catch(() => '');
    throw error;
  }

  const password = env.MXLAB_PASSWORD || LAB_DEFAULT_PASSWORD;
  const endpoints = endpointsFrom(env);
  const ca = await compose.exec('alpha-mta', ['cat', '/var/lib/mxlab/tls/ca.crt']);

  const imapClient = (user: string): ImapFlow => {
    const domain = domainOf(user);
    const endpoint = endpoints[domain === 'alpha' ? 'alphaImap' : 'betaImap'];
    return new ImapFlow({
      ...endpoint,
      secure: false,
      doSTARTTLS: true,
      tls: { ca, servername: `imap.${domain}.test` },
      auth: { user, pass: password },
      logger: false,
    });
  };

  const messages = async (user: string, mailbox = 'INBOX'): Promise<LabMessage[]> => {
    const client = imapClient(user);
    await client.connect();
    try {
      const opened = await client.mailboxOpen(mailbox, { readOnly: true });
      if (opened.exists === 0) return [];
      const found: LabMessage[] = [];
      for await (const item of client.fetch('1:*', { uid: true, source: true })) {
        if (!item.source) continue;
        found.push({ uid: item.uid, mailbox, source: item.source.toString('utf8'), parsed: await simpleParser(item.source) });
      }
      return found;
    } finally {
      await client.logout();
    }
  };

  return {
    endpoints,
    ca,
    password,
    compose,

    async sendMail(mail) {
      const domain = domainOf(mail.from);
      const endpoint = endpoints[domain === 'alpha' ? 'alphaSubmission' : 'betaSubmission'];
      const transport = nodemailer.createTransport({
        ...endpoint,
        secure: false,
        requireTLS: true,
        tls: { ca, servername: `smtp.${domain}.test` },
        auth: mail.auth ?? { user: mail.from, pass: password },
      });
      try {
        const envelope = { from: mail.from, to: mail.to };
        const info = mail.raw
          ? await transport.sendMail({ envelope, raw: mail.raw })
          : await transport.sendMail({
              ...envelope,
              subject: mail.subject,
              text: mail.text,
              html: mail.html,
              headers: mail.headers,
              attachments: mail.attachments,
            });
        return { messageId: info.messageId, response: info.response };
      } finally {
        transport.close();
      }
    },

    messages,

    async waitForMessage(user, predicate, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? WAIT_FOR_MESSAGE_TIMEOUT_MS;
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      while (Date.now() < deadline) {
        try {
          const match = (await messages(user, waitOptions.mailbox)).find(predicate);
          if (match) return match;
        } catch (error) {
          lastError = error;
        }
        await new Promise((resolve) => setTimeout(resolve, MAILBOX_POLL_MS));
      }
      const reason = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`no matching message for ${user} in ${waitOptions.mailbox ?? 'INBOX'} after ${timeoutMs} ms${reason}`);
    },

    pop3Messages(user) {
      const domain = domainOf(user);
      const endpoint = endpoints[domain === 'alpha' ? 'alphaPop3s' : 'betaPop3s'];
      return pop3Messages({ ...endpoint, servername: `pop.${domain}.test`, ca, user, password });
    },

    async queue(mta) {
      const answer = (await adminRequest(compose, mta, 'GET', '/queue')) as { messages: QueuedMessage[] };
      return answer.messages;
    },

    async flushQueue(mta) {
      await adminRequest(compose, mta, 'POST', '/queue/flush');
    },

    saveLogs: (logDir) => compose.saveLogs(logDir),

    async stop() {
      await started.down({ removeVolumes: true, timeout: DOWN_TIMEOUT_MS });
    },
  };
}

/**
 * `it` for tests against a running lab: a failure leaves every container's log in
 * `<artifacts>/<test name>/` before it is reported.
 */
export function labTestIn(artifacts: string, lab: () => MailLab | undefined): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    it(name, async () => {
      try {
        await fn();
      } catch (error) {
        await lab()?.saveLogs(join(artifacts, name.replace(/[^a-z0-9]+/giu, '-'))).catch(() => []);
        throw error;
      }
    });
  };
}
