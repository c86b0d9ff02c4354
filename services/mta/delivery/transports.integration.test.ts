import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createLogger } from '../../../shared/log.ts';
import { ensureServerCertificate } from '../../../shared/tls.ts';
import { scriptedResolver } from '../testing/scripted-resolver.ts';
import type { DeliveryJob, RecipientOutcome } from './outcome.ts';
import { SmtpClient } from './smtp-client.ts';
import { closedPort, startFakePeer, startRawPeer, type FakePeer } from '../testing/peers.ts';
import { lmtpTransport, mxTransport } from './transports.ts';

const logger = createLogger('test');
const MESSAGE = Buffer.from('From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: t\r\nMessage-ID: <t@alpha.test>\r\n\r\nhello\r\n');

function job(recipients: string[], domain = 'beta.test'): DeliveryJob {
  return { queueId: '0000000000000ABCDEF0', mailFrom: 'alice@alpha.test', recipients, domain, message: MESSAGE, logger };
}

function client(commandTimeoutMs = 2_000, tlsCa?: string): SmtpClient {
  return new SmtpClient({ name: 'mx.alpha.test', connectTimeoutMs: 2_000, commandTimeoutMs, ...(tlsCa === undefined ? {} : { tlsCa }) });
}

/** A message whose Subject is `n`. */
function numbered(n: number): Buffer {
  return Buffer.from(`From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: ${n}\r\nMessage-ID: <t${n}@alpha.test>\r\n\r\nhello ${n}\r\n`);
}

function subjectOf(data: Buffer): string {
  return /^Subject: (.*)$/mu.exec(data.toString('latin1'))?.[1]?.trim() ?? '';
}

function byRecipient(outcomes: RecipientOutcome[]): Record<string, string> {
  return Object.fromEntries(outcomes.map((o) => [o.recipient, `${o.kind} ${o.reply.slice(0, 3)}`]));
}

/** The planner's `random` that keeps the DNS order (equal MX preferences, an exchange's addresses). */
const keepOrder = () => 0.99;

/** beta.test with mx1 (two addresses) at 10 and mx2 at 20; ports by exchange and address. */
function betaZone(ports: Record<string, number>) {
  const resolver = scriptedResolver({
    mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'mx2.beta.test', priority: 20 }] },
    a: { 'mx1.beta.test': ['127.0.0.1', '127.0.0.2'], 'mx2.beta.test': ['127.0.0.1'] },
  });
  const portFor = (address: string, exchange: string) => {
    const port = ports[`${exchange} ${address}`];
    if (port === undefined) throw new Error(`no port for ${exchange} ${address}`);
    return port;
  };
  return { resolver, portFor };
}

describe('delivery transports against fake peers', () => {
  const peers: FakePeer[] = [];
  const clients: SmtpClient[] = [];
  const track = <T extends FakePeer>(peer: T) => (peers.push(peer), peer);
  const tracked = (c: SmtpClient) => (clients.push(c), c);
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(peers.map((peer) => peer.close()));
  });

  it('moves past refused, garbage and 4xx addresses, every address of mx1 before mx2', async () => {
    const garbage = track(await startRawPeer((socket) => socket.end('HELLO THIS IS NOT SMTP\r\n'), '127.0.0.2'));
    const tempfail = track(await startFakePeer({ mail: () => [451, '4.3.0 try later'] }));
    const ports = { 'mx1.beta.test 127.0.0.1': await closedPort(), 'mx1.beta.test 127.0.0.2': garbage.port, 'mx2.beta.test 127.0.0.1': tempfail.port };
    const { resolver, portFor } = betaZone(ports);
    const transport = mxTransport({ client: tracked(client()), resolver, random: keepOrder, ownHostnames: ['mx.alpha.test'], outboundPort: 25, portFor });
    const outcomes = await transport.deliver(job(['bob@beta.test']));
    assert.deepEqual(byRecipient(outcomes), { 'bob@beta.test': 'temporary 451' });
    assert.equal(garbage.connections, 1);
    assert.equal(tempfail.connections, 1);

    const good = track(await startFakePeer());
    ports['mx2.beta.test 127.0.0.1'] = good.port;
    const second = await transport.deliver(job(['bob@beta.test']));
    assert.deepEqual(byRecipient(second), { 'bob@beta.test': 'delivered 250' });
    assert.equal(good.received.length, 1);
    assert.deepEqual(good.received[0]?.data, MESSAGE);
  });

  it('treats a 5xx from an exchange as final: the next exchange is not asked', async () => {
    const primary = track(await startFakePeer({ rcpt: (a) => (a === 'nobody@beta.test' ? [550, '5.1.1 no such user'] : undefined) }));
    const backup = track(await startFakePeer());
    const { resolver, portFor } = betaZone({ 'mx1.beta.test 127.0.0.1': primary.port, 'mx1.beta.test 127.0.0.2': backup.port, 'mx2.beta.test 127.0.0.1': backup.port });
    const transport = mxTransport({ client: tracked(client()), resolver, random: keepOrder, ownHostnames: [], outboundPort: 25, portFor });
    const outcomes = await transport.deliver(job(['nobody@beta.test', 'bob@beta.test']));
    assert.deepEqual(byRecipient(outcomes), { 'nobody@beta.test': 'permanent 550', 'bob@beta.test': 'delivered 250' });
    assert.equal(backup.connections, 0);
    assert.deepEqual(primary.received[0]?.rcptTo, ['bob@beta.test']);
  });

  it('sends a recipient deferred by one exchange on to the next one', async () => {
    const primary = track(await startFakePeer({ rcpt: (a) => (a === 'carol@beta.test' ? [452, '4.2.2 mailbox full'] : undefined) }));
    const backup = track(await startFakePeer());
    const down = await closedPort('127.0.0.2');
    const { resolver, portFor } = betaZone({ 'mx1.beta.test 127.0.0.1': primary.port, 'mx1.beta.test 127.0.0.2': down, 'mx2.beta.test 127.0.0.1': backup.port });
    const transport = mxTransport({ client: tracked(client()), resolver, random: keepOrder, ownHostnames: [], outboundPort: 25, portFor });
    const outcomes = await transport.deliver(job(['bob@beta.test', 'carol@beta.test']));
    assert.deepEqual(byRecipient(outcomes), { 'bob@beta.test': 'delivered 250', 'carol@beta.test': 'delivered 250' });
    assert.deepEqual(backup.received.map((m) => m.rcptTo), [['carol@beta.test']]);
  });

  it('fails all recipients for good on a 5xx after DATA, and defers on a 5xx greeting', async () => {
    const rejecting = track(await startFakePeer({ data: () => [554, '5.7.1 message refused'] }));
    const greeting554 = track(await startRawPeer((socket) => socket.end('554 5.3.2 no service here\r\n'), '127.0.0.2'));
    const { resolver, portFor } = betaZone({ 'mx1.beta.test 127.0.0.1': rejecting.port, 'mx1.beta.test 127.0.0.2': greeting554.port, 'mx2.beta.test 127.0.0.1': greeting554.port });
    const transport = mxTransport({ client: tracked(client()), resolver, random: keepOrder, ownHostnames: [], outboundPort: 25, portFor });
    assert.deepEqual(byRecipient(await transport.deliver(job(['bob@beta.test', 'carol@beta.test']))), {
      'bob@beta.test': 'permanent 554',
      'carol@beta.test': 'permanent 554',
    });
    const bothRefuse = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'mx2.beta.test', priority: 20 }] },
      a: { 'mx1.beta.test': ['127.0.0.2'], 'mx2.beta.test': ['127.0.0.2'] },
    });
    const t2 = mxTransport({ client: tracked(client()), resolver: bothRefuse, ownHostnames: [], outboundPort: greeting554.port });
    const before = greeting554.connections;
    const outcomes = await t2.deliver(job(['bob@beta.test']));
    assert.equal(outcomes[0]?.kind, 'temporary');
    assert.equal(greeting554.connections - before, 2, 'a refusing greeting sends the client on to the next exchange');
  });

  it('fails for good when the message is larger than the SIZE the exchange announces', async () => {
    const small = track(await startRawPeer((socket) => {
      socket.write('220 small.test ESMTP\r\n');
      socket.on('data', (chunk: Buffer) => {
        const line = chunk.toString();
        if (/^EHLO/i.test(line)) socket.write('250-small.test\r\n250 SIZE 10\r\n');
        else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
        else socket.write('500 unexpected\r\n');
      });
    }));
    const resolver = scriptedResolver({ mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }] }, a: { 'mx1.beta.test': ['127.0.0.1'] } });
    const transport = mxTransport({ client: tracked(client()), resolver, random: keepOrder, ownHostnames: [], outboundPort: small.port });
    const [outcome] = await transport.deliver(job(['bob@beta.test']));
    assert.equal(outcome?.kind, 'permanent');
    assert.equal(outcome?.enhanced, '5.3.4');
  });

  it('gives up on a silent peer after the command timeout', async () => {
    const silent = track(await startRawPeer(() => undefined));
    const resolver = scriptedResolver({ mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }] }, a: { 'mx1.beta.test': ['127.0.0.1'] } });
    const transport = mxTransport({ client: tracked(client(300)), resolver, ownHostnames: [], outboundPort: silent.port });
    const started = Date.now();
    const outcomes = await transport.deliver(job(['bob@beta.test']));
    assert.equal(outcomes[0]?.kind, 'temporary');
    assert.ok(Date.now() - started < 5_000);
  });

  it('bounces at once on a null MX without connecting anywhere', async () => {
    const resolver = scriptedResolver({ mx: { 'beta.test': [{ exchange: '', priority: 0 }] } });
    const transport = mxTransport({ client: tracked(client()), resolver, random: keepOrder, ownHostnames: [], outboundPort: 1 });
    const [outcome] = await transport.deliver(job(['bob@beta.test']));
    assert.equal(outcome?.kind, 'permanent');
    assert.equal(outcome?.enhanced, '5.1.10');
  });

  it('reuses one connection for messages to the same destination', async () => {
    const peer = track(await startFakePeer());
    const resolver = scriptedResolver({ mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }] }, a: { 'mx1.beta.test': ['127.0.0.1'] } });
    const transport = mxTransport({ client: tracked(client()), resolver, random: keepOrder, ownHostnames: [], outboundPort: peer.port });
    for (let i = 0; i < 3; i += 1) assert.equal((await transport.deliver(job(['bob@beta.test'])))[0]?.kind, 'delivered');
    assert.equal(peer.received.length, 3);
    assert.equal(peer.connections, 1);
  });

  it('sends messages one after another over one kept TLS connection, and concurrent ones over parallel connections', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-tls-'));
    try {
      const files = await ensureServerCertificate(dir, 'beta-mx1', ['mx1.beta.test']);
      const peer = track(await startFakePeer({ tls: { key: files.key, cert: files.cert } }));
      const smtp = tracked(client(2_000, files.ca));
      const destination = { address: '127.0.0.1', port: peer.port, exchange: 'mx1.beta.test', lmtp: false };
      const send = (n: number) => smtp.deliver(destination, 'alice@alpha.test', ['bob@beta.test'], numbered(n), logger);
      for (let n = 1; n <= 5; n += 1) {
        const result = await send(n);
        assert.equal(result.kind === 'transaction' && result.outcomes[0]?.kind, 'delivered');
        assert.equal(result.kind === 'transaction' && result.tls, true, 'the kept connection is still the TLS one');
      }
      assert.equal(peer.connections, 1, 'five messages, one connection, one TLS handshake');
      const together = await Promise.all([6, 7, 8].map(send));
      assert.ok(together.every((result) => result.kind === 'transaction' && result.outcomes[0]?.kind === 'delivered'));
      assert.equal(peer.connections, 3, 'the kept one and two new ones for three messages at once');
      await send(9);
      assert.equal(peer.connections, 3, 'then one of the three kept connections again');
      assert.deepEqual(peer.received.map((m) => subjectOf(m.data)).sort(), ['1', '2', '3', '4', '5', '6', '7', '8', '9'], 'each message exactly once');
      assert.ok(peer.received.every((m) => m.secure));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('retries a message on a fresh connection when the kept one broke, without losing or doubling it', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const peer = track(await startFakePeer());
    const smtp = tracked(client());
    const destination = { address: '127.0.0.1', port: peer.port, exchange: 'mx1.beta.test', lmtp: false };
    const send = (n: number) => smtp.deliver(destination, 'alice@alpha.test', ['bob@beta.test'], numbered(n), capture);
    assert.equal((await send(1)).kind, 'transaction');
    assert.equal(peer.connections, 1);
    // The peer closes the kept connection; the client cannot have seen it before it sends.
    peer.dropConnections();
    const result = await send(2);
    assert.equal(result.kind === 'transaction' && result.outcomes[0]?.kind, 'delivered');
    assert.ok(lines.some((line) => line.event === 'delivery.reuse-failed'), 'the kept connection was tried and failed');
    assert.equal(peer.connections, 2, 'message 2 went over a fresh connection');
    // A kept connection the client has already seen closed is skipped without an attempt.
    peer.dropConnections();
    await new Promise((resolve) => setTimeout(resolve, 100));
    lines.length = 0;
    assert.equal((await send(3)).kind, 'transaction');
    assert.ok(!lines.some((line) => line.event === 'delivery.reuse-failed'));
    assert.equal(peer.connections, 3);
    assert.deepEqual(peer.received.map((m) => subjectOf(m.data)), ['1', '2', '3'], 'each message exactly once');
  });

  it('uses STARTTLS with a lab certificate, and falls back to plain text when the certificate is not trusted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-tls-'));
    try {
      const files = await ensureServerCertificate(dir, 'beta-mx1', ['mx1.beta.test']);
      const trusted = track(await startFakePeer({ tls: { key: files.key, cert: files.cert } }));
      const resolver = scriptedResolver({ mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }] }, a: { 'mx1.beta.test': ['127.0.0.1'] } });
      const secure = mxTransport({ client: tracked(client(2_000, files.ca)), resolver, ownHostnames: [], outboundPort: trusted.port });
      assert.equal((await secure.deliver(job(['bob@beta.test'])))[0]?.kind, 'delivered');
      assert.equal(trusted.received[0]?.secure, true);
      const direct = await tracked(client(2_000, files.ca)).deliver({ address: '127.0.0.1', port: trusted.port, exchange: 'mx1.beta.test', lmtp: false }, '', ['bob@beta.test'], MESSAGE, logger);
      assert.equal(direct.kind === 'transaction' && direct.tls, true, 'the attempt reports that it used TLS');
      assert.equal(trusted.received[1]?.mailFrom, '', 'the null sender goes out as MAIL FROM:<>');

      const otherDir = await mkdtemp(join(tmpdir(), 'mxlab-tls-other-'));
      const stranger = await ensureServerCertificate(otherDir, 'beta-mx1', ['mx1.beta.test']);
      await rm(otherDir, { recursive: true, force: true });
      const untrusted = track(await startFakePeer({ tls: { key: stranger.key, cert: stranger.cert } }));
      const fallback = mxTransport({ client: tracked(client(2_000, files.ca)), resolver, ownHostnames: [], outboundPort: untrusted.port });
      assert.equal((await fallback.deliver(job(['bob@beta.test'])))[0]?.kind, 'delivered');
      assert.equal(untrusted.received[0]?.secure, false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads one LMTP reply per recipient', async () => {
    const replies: Record<string, [number, string]> = {
      'carol@alpha.test': [550, '5.1.1 unknown user'],
      'dave@alpha.test': [452, '4.2.2 over quota'],
    };
    const mda = track(await startFakePeer({ lmtp: true, data: (rcpt) => replies[rcpt] }));
    const transport = lmtpTransport({ client: tracked(client()), target: { host: mda.host, port: mda.port } });
    const outcomes = await transport.deliver(job(['alice@alpha.test', 'carol@alpha.test', 'dave@alpha.test'], 'alpha.test'));
    assert.deepEqual(byRecipient(outcomes), {
      'alice@alpha.test': 'delivered 250',
      'carol@alpha.test': 'permanent 550',
      'dave@alpha.test': 'temporary 452',
    });
    assert.deepEqual(mda.received.map((m) => m.rcptTo), [['alice@alpha.test']]);
    const refused = lmtpTransport({ client: tracked(client()), target: { host: '127.0.0.1', port: await closedPort() } });
    assert.equal((await refused.deliver(job(['alice@alpha.test'], 'alpha.test')))[0]?.kind, 'temporary');
  });
});
