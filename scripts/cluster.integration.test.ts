/**
 * The routing lessons of the lab world, through the lab itself (profile `cluster`, no
 * Docker): the lab DNS serves gamma's three exchanges and mx1's two A records; with mx1
 * down, 100 messages from alice land on both equal backups; with one instance of mx1
 * down the other takes the mail; direct.gamma.test's mail goes to its A record (implicit
 * MX); null.test's is refused at RCPT (556 5.1.10) and nothing is queued; delta.test's
 * mail waits on beta-mx2, another organisation's server, while delta-mx is down; an
 * edited zone reaches alpha-mta's DNS cache (GET /dns) once the old answer's TTL is out.
 * Real clients: dig, swaks, nodemailer, imapflow. Its own loopback network, 127.46.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { journeyOf, type Journey } from '../services/mua/journey/journey.ts';
import { AGENT_ADDRESSES, SERVICE_PORTS, toLoopback, type AgentName } from '../shared/lab.ts';
import { runProcess } from '../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from './lab-process.ts';

const NET = '127.46';
/** gamma.test's TTL in this test's copy of the zones (60 s in the lab's), so the cache test waits seconds, not a minute. */
const GAMMA_TTL_S = 8;
const root = join(import.meta.dirname, '..');

let lab: LabProcess;
let zonesDir = '';

async function run(command: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runProcess(command, args, { timeoutMs, env: lab.env });
  return { code: result.code, stdout: result.stdout.toString(), stderr: result.stderr };
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function labctl(...args: string[]): Promise<void> {
  const result = await run(process.execPath, [join(root, 'scripts', 'labctl.ts'), ...args]);
  assert.equal(result.code, 0, `npm run lab -- ${args.join(' ')}: ${result.stdout}${result.stderr}`);
}

async function dig(name: string, type: string): Promise<string[]> {
  const result = await run('dig', ['@127.0.0.1', '-p', String(lab.env.MXLAB_DNS_PORT), '+short', name, type]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split('\n').filter((line) => line !== '').sort();
}

const adminUrl = (agent: AgentName, path: string) => `http://${toLoopback(AGENT_ADDRESSES[agent], NET)}:${SERVICE_PORTS.mtaAdmin}${path}`;

interface QueueView {
  messages: { queueId: string; messageId?: string; recipients: { recipient: string; status: string; attempts: number }[] }[];
}
interface DnsView {
  entries: { name: string; type: string; answers: { preference?: number; exchange?: string; address?: string }[]; ttl: number; secondsLeft: number }[];
}

async function admin<T>(agent: AgentName, path: string, method = 'GET'): Promise<T> {
  const response = await fetch(adminUrl(agent, path), { method });
  assert.ok(response.ok, `${method} ${path} on ${agent}: ${response.status}`);
  return (await response.json()) as T;
}

function submitter(pool = false) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: Number(lab.env.MXLAB_ALPHA_SUBMISSION_PORT),
    requireTLS: true,
    tls: { ca: lab.ca, servername: 'smtp.alpha.test' },
    auth: { user: 'alice@alpha.test', pass: 'secret' },
    ...(pool ? { pool: true, maxConnections: 2, maxMessages: Infinity } : {}),
  });
}

/** Sends `count` messages from alice, subjects `<subject> #1..count`; their Message-IDs. */
async function send(to: string, subject: string, count = 1): Promise<string[]> {
  const transport = submitter(count > 1);
  try {
    const ids: string[] = [];
    for (let n = 1; n <= count; n += 1) {
      const info = await transport.sendMail({ from: 'alice@alpha.test', to, subject: count > 1 ? `${subject} #${n}` : subject, text: `message ${n} of ${count}` });
      ids.push(info.messageId);
    }
    return ids;
  } finally {
    transport.close();
  }
}

interface Delivered {
  subject: string;
  messageId: string;
  journey: Journey;
  agents: string[];
}

/** The INBOX of a gamma-mra user (gamma.test, direct.gamma.test, delta.test), every message's trail read. */
async function inbox(address: string, subject: string): Promise<Delivered[]> {
  const client = new ImapFlow({
    host: '127.0.0.1', port: Number(lab.env.MXLAB_GAMMA_IMAP_PORT), secure: false,
    auth: { user: address, pass: 'secret' }, tls: { ca: lab.ca, servername: 'imap.gamma.test' }, logger: false,
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX', { readOnly: true });
    try {
      const found: Delivered[] = [];
      if (typeof client.mailbox !== 'object' || client.mailbox.exists === 0) return found;
      for await (const item of client.fetch('1:*', { envelope: true, source: true })) {
        const title = item.envelope?.subject ?? '';
        if (!title.startsWith(subject)) continue;
        const journey = journeyOf(item.source ?? Buffer.alloc(0));
        found.push({ subject: title, messageId: item.envelope?.messageId ?? '', journey, agents: journey.hops.map((hop) => hop.agent) });
      }
      return found;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

/** Waits until `address` holds `count` messages whose subject starts with `subject`. */
async function delivered(address: string, subject: string, count: number): Promise<Delivered[]> {
  return until(`${count} × "${subject}" for ${address}`, async () => {
    const found = await inbox(address, subject);
    return found.length >= count ? found : undefined;
  }, 120_000);
}

function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

describe('the cluster profile\'s routing, through the lab (127.46)', () => {
  before(async () => {
    // A copy of the lab's zones, gamma.test's TTL shortened, so the last test can edit it.
    zonesDir = await mkdtemp(join(tmpdir(), 'mxlab-zones-'));
    await cp(join(root, 'services', 'dns', 'zones'), zonesDir, { recursive: true });
    const gamma = join(zonesDir, 'gamma.test.zone');
    await writeFile(gamma, (await readFile(gamma, 'utf8')).replace(/^\$TTL 60$/mu, `$TTL ${GAMMA_TTL_S}`));
    lab = await startLabProcess({ loopbackNet: NET, env: { MXLAB_PROFILES: 'cluster', MXLAB_ZONES_DIR: zonesDir, LOG_LEVEL: 'info' } });
  });
  after(async () => {
    await lab?.stop();
    if (zonesDir) await rm(zonesDir, { recursive: true, force: true });
  });

  it('serves gamma\'s three exchanges, two at equal preference, and mx1\'s two A records (dig)', async () => {
    assert.deepEqual(await dig('gamma.test', 'MX'), ['10 mx1.gamma.test.', '20 mx2.gamma.test.', '20 mx3.gamma.test.']);
    assert.deepEqual(await dig('mx1.gamma.test', 'A'), [`${NET}.0.30`, `${NET}.0.31`]);
    assert.deepEqual(await dig('direct.gamma.test', 'MX'), []);
    assert.deepEqual(await dig('direct.gamma.test', 'A'), [`${NET}.0.33`]);
    assert.deepEqual(await dig('null.test', 'MX'), ['0 .']);
    assert.deepEqual(await dig('delta.test', 'MX'), ['10 mx.delta.test.', '20 mx2.beta.test.']);
  });

  it('shares mx1.gamma.test\'s load between its two A records, and one instance down leaves the other taking it all', { timeout: 240_000 }, async (t) => {
    await send('erin@gamma.test', 'both up', 20);
    const both = await delivered('erin@gamma.test', 'both up', 20);
    const first = tally(both.map((message) => message.agents[1] ?? ''));
    t.diagnostic(`20 messages with both instances up: ${JSON.stringify(first)}`);
    assert.deepEqual(Object.keys(first).sort(), ['gamma-mx1a', 'gamma-mx1b'], `alpha-mta handed the 20 messages to ${JSON.stringify(first)}`);
    for (const message of both) assert.deepEqual(message.agents.slice(0, 1).concat(message.agents.slice(2)), ['alpha-mta', 'gamma-mda']);

    await labctl('stop', 'gamma-mx1a');
    try {
      await send('erin@gamma.test', 'one down', 10);
      const one = await delivered('erin@gamma.test', 'one down', 10);
      for (const message of one) assert.deepEqual(message.agents, ['alpha-mta', 'gamma-mx1b', 'gamma-mda'], message.subject);
      const queued = (await admin<QueueView>('alpha-mta', '/queue')).messages.filter((entry) => entry.recipients.some((r) => r.recipient === 'erin@gamma.test'));
      assert.deepEqual(queued, [], 'nothing waited in alpha-mta\'s queue: the second address answered at once');
    } finally {
      await labctl('start', 'gamma-mx1a');
    }
  });

  it('with mx1 down, 100 messages land on both equal backups (30 to 70 each) and reach dave once each when it is back', { timeout: 300_000 }, async (t) => {
    await labctl('stop', 'gamma-mx1a');
    await labctl('stop', 'gamma-mx1b');
    let counts: Record<string, number>;
    try {
      const ids = new Set(await send('dave@gamma.test', 'hundred', 100));
      counts = await until('the 100 messages in the backups\' queues', async () => {
        const held: Record<string, number> = {};
        for (const backup of ['gamma-mx2', 'gamma-mx3'] as const) {
          held[backup] = (await admin<QueueView>(backup, '/queue')).messages.filter((entry) => ids.has(entry.messageId ?? '')).length;
        }
        return (held['gamma-mx2'] ?? 0) + (held['gamma-mx3'] ?? 0) === 100 ? held : undefined;
      }, 180_000);
      t.diagnostic(`split of 100 messages: ${JSON.stringify(counts)}`);
      for (const [backup, count] of Object.entries(counts)) assert.ok(count >= 30 && count <= 70, `${backup} took ${count} of 100 (${JSON.stringify(counts)})`);
      assert.deepEqual((await admin<QueueView>('alpha-mta', '/queue')).messages, [], 'alpha-mta handed every message to a backup');
    } finally {
      await labctl('start', 'gamma-mx1a');
      await labctl('start', 'gamma-mx1b');
    }
    for (const backup of ['gamma-mx2', 'gamma-mx3'] as const) await admin(backup, '/queue/flush', 'POST');
    const arrived = await delivered('dave@gamma.test', 'hundred', 100);
    assert.equal(new Set(arrived.map((message) => message.subject)).size, 100, 'each of the 100 arrived once');
    const via = tally(arrived.map((message) => message.agents[1] ?? ''));
    assert.deepEqual(via, counts, 'each message\'s trail names the backup that kept it');
    for (const message of arrived) assert.match(message.agents[2] ?? '', /^gamma-mx1[ab]$/u, `${message.subject}: ${message.agents.join(' → ')}`);
  });

  it('delivers direct.gamma.test\'s mail to its A record (implicit MX)', async () => {
    await send('frank@direct.gamma.test', 'implicit mx');
    const [message] = await delivered('frank@direct.gamma.test', 'implicit mx', 1);
    assert.deepEqual(message?.agents, ['alpha-mta', 'gamma-mx3', 'gamma-mda']);
    assert.equal(message?.journey.hops[1]?.byHost, 'mx3.gamma.test');
  });

  it('refuses null.test\'s recipient at RCPT with 556 5.1.10 and queues nothing (swaks)', async () => {
    const sent = await run('swaks', ['--server', `127.0.0.1:${lab.env.MXLAB_ALPHA_SUBMISSION_PORT}`, '--tls', '--auth-user', 'alice@alpha.test',
      '--auth-password', 'secret', '--from', 'alice@alpha.test', '--to', 'someone@null.test', '--header', 'Subject: to the null MX']);
    assert.notEqual(sent.code, 0);
    assert.match(sent.stdout, /<~?\*+\s+556 5\.1\.10 /u, sent.stdout);
    const queued = (await admin<QueueView>('alpha-mta', '/queue')).messages.flatMap((entry) => entry.recipients.map((r) => r.recipient));
    assert.ok(!queued.some((recipient) => recipient.endsWith('@null.test')), `alpha-mta queued ${queued.join(', ')}`);
  });

  it('keeps delta.test\'s mail on beta-mx2 (another organisation\'s server) while delta-mx is down, and delivers it once when it is back', { timeout: 180_000 }, async () => {
    await labctl('stop', 'delta-mx');
    let ids: string[] = [];
    try {
      ids = await send('grace@delta.test', 'isp backup');
      const waiting = await until('the message deferred on beta-mx2', async () => {
        const entry = (await admin<QueueView>('beta-mx2', '/queue')).messages.find((item) => item.messageId === ids[0]);
        const state = entry?.recipients.find((r) => r.recipient === 'grace@delta.test');
        return state !== undefined && state.status === 'deferred' && state.attempts >= 1 ? state : undefined;
      });
      assert.equal(waiting.recipient, 'grace@delta.test');
      assert.deepEqual(await inbox('grace@delta.test', 'isp backup'), [], 'nothing reached grace while delta-mx was down');
    } finally {
      await labctl('start', 'delta-mx');
    }
    await admin('beta-mx2', '/queue/flush', 'POST');
    const [message] = await delivered('grace@delta.test', 'isp backup', 1);
    assert.deepEqual(message?.agents, ['alpha-mta', 'beta-mx2', 'delta-mx', 'gamma-mda']);
    await until('beta-mx2 to forget the message', async () => ((await admin<QueueView>('beta-mx2', '/queue')).messages.length === 0 ? true : undefined));
    assert.equal((await inbox('grace@delta.test', 'isp backup')).length, 1, 'delivered exactly once');
  });

  it('shows an edited zone in alpha-mta\'s GET /dns only once the cached answer\'s TTL has run out', { timeout: 120_000 }, async () => {
    const gammaMx = async () => (await admin<DnsView>('alpha-mta', '/dns')).entries.find((entry) => entry.name === 'gamma.test' && entry.type === 'MX');
    const lookUp = async () => {
      // A recipient at gamma.test: submission asks DNS for gamma.test MX (the null-MX rule) through the MTA's one cache.
      const sent = await run('swaks', ['--server', `127.0.0.1:${lab.env.MXLAB_ALPHA_SUBMISSION_PORT}`, '--tls', '--auth-user', 'alice@alpha.test',
        '--auth-password', 'secret', '--from', 'alice@alpha.test', '--to', 'dave@gamma.test', '--quit-after', 'RCPT']);
      assert.equal(sent.code, 0, sent.stdout);
    };
    const mx3 = (entry: DnsView['entries'][number] | undefined) => entry?.answers.find((answer) => answer.exchange === 'mx3.gamma.test')?.preference;
    await until('gamma.test MX out of the cache', async () => ((await gammaMx()) === undefined ? true : undefined), (GAMMA_TTL_S + 2) * 1000);
    await lookUp();
    const before = await gammaMx();
    assert.equal(before?.ttl, GAMMA_TTL_S);
    assert.equal(mx3(before), 20);

    const file = join(zonesDir, 'gamma.test.zone');
    const zone = await readFile(file, 'utf8');
    const edited = zone
      .replace(/^(\s+)2026120301( ; serial)$/mu, '$12026120302$2')
      .replace(/^\$TTL \d+$/mu, `$TTL ${GAMMA_TTL_S * 2}`)
      .replace(/IN MX {3}20 mx3\.gamma\.test\./u, 'IN MX   30 mx3.gamma.test.');
    assert.notEqual(edited, zone);
    await writeFile(file, edited);
    await until('the lab DNS to serve the edit', async () => ((await dig('gamma.test', 'MX')).includes('30 mx3.gamma.test.') ? true : undefined), 10_000);
    // The DNS serves the edit within a second or so; the old answer still has seconds to live.
    const stale = await gammaMx();
    assert.ok(stale !== undefined && stale.secondsLeft > 0, 'alpha-mta still holds the old answer');
    assert.equal(mx3(stale), 20);
    await lookUp();
    assert.equal(mx3(await gammaMx()), 20, 'a lookup within the TTL is answered from the cache');
    await until('the old answer to expire', async () => ((await gammaMx()) === undefined ? true : undefined), (GAMMA_TTL_S + 2) * 1000);
    await lookUp();
    const fresh = await gammaMx();
    assert.equal(mx3(fresh), 30);
    assert.equal(fresh?.ttl, GAMMA_TTL_S * 2);
  });
});
