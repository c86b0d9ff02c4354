/**
 * The fault suite's common parts (issue 15 item 4): a burst of mail from alice to bob
 * through the real lab, sent by nodemailer as a mail client would (a reply lost to a
 * crash is a failure, never retried by the client), and the count at the end: how many
 * got their 250, how many are in bob's Maildir, how many twice, how many lost.
 */
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { LabProcess } from '../scripts/lab-process.ts';
import { AGENT_ADDRESSES, SERVICE_PORTS, toLoopback, type AgentName } from '../shared/lab.ts';

export interface BurstResult {
  sent: number;
  /** Message-IDs that got a 250 from the submission port. */
  accepted: Set<string>;
  /** Message-IDs whose submission failed (refused, or the connection died before the reply). */
  failed: Set<string>;
  errors: string[];
}

export interface Counts {
  sent: number;
  accepted: number;
  delivered: number;
  duplicated: number;
  /** Accepted but not delivered. */
  lost: number;
  /** Not accepted, delivered anyway (allowed: at most once). */
  deliveredUnaccepted: number;
}

/** The lab's MTAs and their admin endpoints on the lab's loopback net. */
export const LAB_MTAS = ['alpha-mta', 'beta-mx1', 'beta-mx2'] as const;

export function adminUrl(lab: LabProcess, mta: (typeof LAB_MTAS)[number]): string {
  return `http://${toLoopback(AGENT_ADDRESSES[mta], lab.env.MXLAB_LOOPBACK_NET)}:${SERVICE_PORTS.mtaAdmin}`;
}

export function messageIdFor(label: string, n: number): string {
  return `<${label}.${n}@faults.alpha.test>`;
}

/**
 * Sends `count` messages alice → bob over `connections` pooled submission sessions
 * (STARTTLS, AUTH), calling `during(n)` before message n so a scenario can cause its fault.
 */
export function sendBurst(lab: LabProcess, options: BurstOptions): Promise<BurstResult> {
  return sendBurstTo({ host: '127.0.0.1', port: lab.ports.alphaSubmission, ca: lab.ca }, options);
}

/** alice's submission port, in either mode. */
export interface SubmissionTarget {
  host: string;
  port: number;
  /** The lab CA (PEM). */
  ca: string;
}

export interface BurstOptions {
  label: string;
  count: number;
  connections?: number;
  during?: (n: number) => Promise<void> | void;
}

/** sendBurst against any lab: the no-Docker one or compose's published ports. */
export async function sendBurstTo(target: SubmissionTarget, options: BurstOptions): Promise<BurstResult> {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: options.connections ?? 8,
    maxMessages: Infinity,
    host: target.host,
    port: target.port,
    requireTLS: true,
    tls: { ca: target.ca, servername: 'smtp.alpha.test' },
    auth: { user: 'alice@alpha.test', pass: 'secret' },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const result: BurstResult = { sent: 0, accepted: new Set(), failed: new Set(), errors: [] };
  const inFlight = new Set<Promise<void>>();
  let submissionDown = false;
  try {
    for (let n = 1; n <= options.count; n += 1) {
      await options.during?.(n);
      // A client that lost its server waits for it to come back before sending more (it does not resend).
      if (submissionDown) {
        await Promise.all(inFlight);
        await waitForPort(target.port, target.host);
        submissionDown = false;
      }
      const messageId = messageIdFor(options.label, n);
      result.sent += 1;
      const sending = transport
        .sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: `${options.label} ${n}`, text: `message ${n} of the burst\n`, messageId })
        .then(
          () => void result.accepted.add(messageId),
          (error: Error) => {
            result.failed.add(messageId);
            submissionDown = true;
            if (result.errors.length < 10) result.errors.push(`${n}: ${error.message}`);
          },
        );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
      // Keep the pool busy without queueing the whole burst inside nodemailer.
      while (inFlight.size >= (options.connections ?? 8) * 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    transport.close();
  }
  return result;
}

/** Message-ID → copies in bob's Maildir (INBOX and every folder, new/ and cur/). */
export async function deliveredCopies(lab: LabProcess, label: string): Promise<Map<string, number>> {
  const maildir = join(lab.stateDir, 'mail', 'beta.test', 'bob');
  const folders = ['', ...(await readdir(maildir).catch(() => [] as string[])).filter((name) => name.startsWith('.'))];
  const copies = new Map<string, number>();
  for (const folder of folders) {
    for (const sub of ['new', 'cur']) {
      const dir = join(maildir, folder, sub);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const text = await readFile(join(dir, name), 'latin1').catch(() => '');
        const id = /^Message-ID:\s*(<[^>\r\n]+>)/imu.exec(text.slice(0, 16_384))?.[1];
        if (id?.startsWith(`<${label}.`)) copies.set(id, (copies.get(id) ?? 0) + 1);
      }
    }
  }
  return copies;
}

export async function queueSizes(lab: LabProcess): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const mta of LAB_MTAS) {
    try {
      const body = (await (await fetch(`${adminUrl(lab, mta)}/queue`)).json()) as { messages: unknown[] };
      sizes[mta] = body.messages.length;
    } catch {
      sizes[mta] = -1; // not answering (restarting)
    }
  }
  return sizes;
}

/** Asks every MTA to retry its queue now (the lab's first retry is 10 s away). */
export async function flushAll(lab: LabProcess): Promise<void> {
  for (const mta of LAB_MTAS) await fetch(`${adminUrl(lab, mta)}/queue/flush`, { method: 'POST' }).catch(() => undefined);
}

/** What settling needs to see of a lab: its queues, bob's copies of the burst, a flush. */
export interface LabProbe {
  /** Messages queued at each MTA; -1 for one not answering (restarting). */
  queueSizes(): Promise<Record<string, number>>;
  /** Message-ID → copies delivered to bob. */
  copies(): Promise<Map<string, number>>;
  /** Asks every MTA to retry its queue now. */
  flush(): Promise<void>;
}

export function processProbe(lab: LabProcess, label: string): LabProbe {
  return { queueSizes: () => queueSizes(lab), copies: () => deliveredCopies(lab, label), flush: () => flushAll(lab) };
}

/**
 * Waits until every queue is empty and bob's Maildir has stopped changing, flushing the
 * queues meanwhile; then counts.
 */
export function settle(lab: LabProcess, burst: BurstResult, label: string, timeoutMs = 240_000): Promise<Counts> {
  return settleWith(processProbe(lab, label), burst, timeoutMs);
}

export async function settleWith(probe: LabProbe, burst: BurstResult, timeoutMs = 240_000): Promise<Counts> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    const sizes = await probe.queueSizes();
    const total = [...(await probe.copies()).values()].reduce((sum, n) => sum + n, 0);
    if (total !== last) {
      last = total;
      quietSince = Date.now();
    }
    const empty = Object.values(sizes).every((size) => size === 0);
    if (empty && Date.now() - quietSince > 3_000) break;
    if (Date.now() > deadline) break;
    if (!empty) await probe.flush();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return count(burst, await probe.copies());
}

export function count(burst: BurstResult, copies: Map<string, number>): Counts {
  let delivered = 0;
  let duplicated = 0;
  let lost = 0;
  let deliveredUnaccepted = 0;
  for (const [id, n] of copies) {
    delivered += 1;
    if (n > 1) duplicated += n - 1;
    if (!burst.accepted.has(id)) deliveredUnaccepted += 1;
  }
  for (const id of burst.accepted) if (!copies.has(id)) lost += 1;
  return { sent: burst.sent, accepted: burst.accepted.size, delivered, duplicated, lost, deliveredUnaccepted };
}

export function report(scenario: string, counts: Counts, extra: Record<string, unknown> = {}): string {
  const line = `${scenario}: sent ${counts.sent}, accepted ${counts.accepted}, delivered ${counts.delivered}, duplicated ${counts.duplicated}, lost ${counts.lost}, delivered without a 250 ${counts.deliveredUnaccepted}${
    Object.keys(extra).length ? `, ${Object.entries(extra).map(([key, value]) => `${key} ${String(value)}`).join(', ')}` : ''
  }`;
  process.stdout.write(`# ${line}\n`);
  return line;
}

/** kill -9 of an agent's process (the no-Docker lab restarts it). */
export async function killAgent(lab: LabProcess, agent: AgentName): Promise<number> {
  const pid = (await lab.pids())[agent];
  if (!pid) throw new Error(`no pid for ${agent}`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/** Resolves once a TCP connection to `host`:`port` succeeds. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing answers on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** An IMAP client of bob's mailbox on the no-Docker lab (STARTTLS, the lab CA); connect() is the caller's. */
export function bobImap(lab: LabProcess): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: lab.ports.betaImap,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: [lab.ca], servername: 'imap.beta.test' },
    auth: { user: 'bob@beta.test', pass: 'secret' },
    logger: false,
  });
}

/** A process's resident memory in bytes (0 when it is gone). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/mu.exec(status)?.[1] ?? 0) * 1024;
}
