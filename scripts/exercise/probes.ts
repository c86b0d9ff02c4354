/**
 * How the checks look at the lab: mailboxes over IMAP as the lab users, DNS over UDP,
 * the MTAs' admin endpoints over HTTP, and (no-Docker lab only) the agents' JSON logs.
 * Every probe reads; none changes the lab.
 */
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { ImapFlow } from 'imapflow';
import type { QueueEntryView } from '../../services/mta/admin/view.ts';
import { journeyOf, type Journey } from '../../services/mua/journey/journey.ts';
import { parseHeaderBlock, type HeaderField } from '../../services/mua/journey/headers.ts';
import { domainSide, type LabTarget, type MtaName } from './lab.ts';

const IMAP_TIMEOUT_MS = 10_000;
const DNS_TIMEOUT_MS = 3_000;
/** The newest messages a check reads from one folder: lab mailboxes are small. */
const MAX_MESSAGES = 500;

export interface StoredMessage {
  folder: string;
  uid: number;
  subject: string;
  from: string;
  headers: HeaderField[];
  journey: Journey;
  source: Buffer;
  flags: string[];
}

/** The first value of a header field (lower-case name), unfolded. */
export function header(message: StoredMessage, name: string): string | undefined {
  return message.headers.find((field) => field.name === name)?.value;
}

async function withImap<T>(lab: LabTarget, address: string, use: (client: ImapFlow) => Promise<T>): Promise<T> {
  const side = domainSide(address.split('@')[1] ?? '');
  const { host, port } = lab.imap(side);
  const client = new ImapFlow({
    host,
    port,
    secure: false,
    auth: { user: address, pass: lab.password },
    logger: false,
    connectionTimeout: IMAP_TIMEOUT_MS,
    greetingTimeout: IMAP_TIMEOUT_MS,
    // The MRA's certificate names its host name in both modes; verified when the CA is at hand.
    tls: lab.ca ? { ca: lab.ca, servername: `imap.${side}.test` } : { rejectUnauthorized: false },
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    const running = side === 'gamma' ? 'is the lab running with the cluster profile (COMPOSE_PROFILES=cluster, MXLAB_PROFILES=cluster)?' : 'is the lab running?';
    throw new Error(`cannot log in to IMAP at ${host}:${port} as ${address} (${(error as Error).message}); ${running}`, { cause: error });
  }
  try {
    return await use(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** The folders of a user's mailbox (IMAP paths: INBOX, Sent, Junk, …). */
export function folders(lab: LabTarget, address: string): Promise<string[]> {
  return withImap(lab, address, async (client) => (await client.list()).map((box) => box.path));
}

/** The messages of one folder (newest MAX_MESSAGES), headers parsed; [] when the folder does not exist. */
export function messages(lab: LabTarget, address: string, folder = 'INBOX'): Promise<StoredMessage[]> {
  return withImap(lab, address, async (client) => {
    const exists = (await client.list()).some((box) => box.path === folder);
    if (!exists) return [];
    const lock = await client.getMailboxLock(folder, { readOnly: true });
    try {
      const total = typeof client.mailbox === 'object' ? client.mailbox.exists : 0;
      if (total === 0) return [];
      const first = Math.max(1, total - MAX_MESSAGES + 1);
      const found: StoredMessage[] = [];
      for await (const item of client.fetch(`${first}:*`, { uid: true, envelope: true, source: true, flags: true })) {
        const source = item.source ?? Buffer.alloc(0);
        found.push({
          folder,
          uid: item.uid,
          subject: item.envelope?.subject ?? '',
          from: item.envelope?.from?.[0]?.address ?? '',
          headers: parseHeaderBlock(source),
          journey: journeyOf(source),
          source,
          flags: [...(item.flags ?? [])],
        });
      }
      return found;
    } finally {
      lock.release();
    }
  });
}

/** Messages whose Subject contains `text` (case-insensitive), in one folder. */
export async function messagesWithSubject(lab: LabTarget, address: string, text: string, folder = 'INBOX'): Promise<StoredMessage[]> {
  const wanted = text.toLowerCase();
  return (await messages(lab, address, folder)).filter((message) => message.subject.toLowerCase().includes(wanted));
}

/** True when the password logs the user in over IMAP. */
export async function canLogIn(lab: LabTarget, address: string, password: string): Promise<boolean> {
  try {
    await withImap({ ...lab, password }, address, async () => undefined);
    return true;
  } catch {
    return false;
  }
}

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

/** Asks the lab DNS one question over UDP; the answer section. */
export function dnsQuery(lab: LabTarget, name: string, type: 'A' | 'MX' | 'SRV' | 'TXT'): Promise<DnsAnswer[]> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(lab.dns.host.includes(':') ? 'udp6' : 'udp4');
    const id = Math.floor(Math.random() * 65535);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no DNS answer from ${lab.dns.host}:${lab.dns.port} for ${name} ${type}; is the lab running?`));
    }, DNS_TIMEOUT_MS);
    socket.on('message', (payload) => {
      const reply = dnsPacket.decode(payload);
      if (reply.id !== id) return;
      clearTimeout(timer);
      socket.close();
      resolve((reply.answers ?? []).map((answer) => ({ name: answer.name, type: answer.type, ttl: 'ttl' in answer ? (answer.ttl ?? 0) : 0, data: 'data' in answer ? answer.data : undefined })));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
    socket.send(query, lab.dns.port, lab.dns.host);
  });
}

/** GET on an MTA's admin endpoint, parsed JSON. */
export async function admin<T>(lab: LabTarget, mta: MtaName, path: string): Promise<T> {
  const url = `${lab.adminUrl(mta)}${path}`;
  let response: Response;
  try {
    const headers: Record<string, string> = lab.adminToken ? { authorization: `Bearer ${lab.adminToken}` } : {};
    response = await fetch(url, { headers, signal: AbortSignal.timeout(IMAP_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`cannot reach ${mta}'s admin endpoint ${url} (${(error as Error).message}); is ${mta} running?`, { cause: error });
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as T;
}

/** A queue entry as the MTA's admin API shows it (GET /queue). */
export type QueuedMessage = QueueEntryView;

export async function queue(lab: LabTarget, mta: MtaName): Promise<QueuedMessage[]> {
  return (await admin<{ messages: QueuedMessage[] }>(lab, mta, '/queue')).messages;
}

export type LogLine = Record<string, unknown> & { msg?: string; event?: string; queueId?: string };

/** An agent's JSON log lines (no-Docker lab); undefined when the target has no log files. */
export async function logLines(lab: LabTarget, agent: string): Promise<LogLine[] | undefined> {
  if (lab.logsDir === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(join(lab.logsDir, `${agent}.log`), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}
