import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { createLogger } from '../../../shared/log.ts';
import { createAdminApp } from '../admin/app.ts';
import { listenAdmin, type AdminServerHandle } from '../admin/listen.ts';
import { Spool } from '../queue/spool.ts';
import { classifyDnsError, createLabResolver } from '../routing/resolver.ts';
import { deliveryConfigSchema } from './config.ts';
import { startDelivery, type DeliveryRunner } from './runner.ts';
import { startFakePeer, waitFor, type FakePeer } from '../testing/peers.ts';

const logger = createLogger('test');
const NXDOMAIN = 3;
const SERVFAIL = 2;

/** A tiny authoritative DNS server over UDP: beta.test MX → mx1.beta.test A 127.0.0.1. */
async function startDns(): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const queries: string[] = [];
  const socket: Socket = createSocket('udp4');
  socket.on('message', (buf, rinfo) => {
    const query = dnsPacket.decode(buf);
    const question = query.questions?.[0];
    if (question === undefined) return;
    queries.push(`${question.type} ${question.name}`);
    const answers: dnsPacket.Answer[] = [];
    let rcode = 0;
    if (question.name === 'beta.test' && question.type === 'MX') {
      answers.push({ type: 'MX', name: 'beta.test', ttl: 60, data: { preference: 10, exchange: 'mx1.beta.test' } });
    } else if (question.name === 'mx1.beta.test' && question.type === 'A') {
      answers.push({ type: 'A', name: 'mx1.beta.test', ttl: 60, data: '127.0.0.1' });
    } else if (question.name === 'broken.test') {
      rcode = SERVFAIL;
    } else if (!['beta.test', 'mx1.beta.test'].includes(question.name)) {
      rcode = NXDOMAIN;
    }
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode,
      questions: [question],
      answers,
    });
    socket.send(response, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, queries, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

describe('delivery on the lab DNS (real resolver, real sockets)', () => {
  let dir: string;
  let dns: Awaited<ReturnType<typeof startDns>>;
  let mda: FakePeer;
  let mx1: FakePeer;
  let spool: Spool;
  let runner: DeliveryRunner;
  let admin: AdminServerHandle;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-labdns-'));
    dns = await startDns();
    mda = await startFakePeer({ lmtp: true });
    mx1 = await startFakePeer();
    spool = await Spool.open({ dir, logger });
    runner = startDelivery({
      queue: spool,
      config: { ...deliveryConfigSchema.parse({ MTA_DNS_TIMEOUT_MS: '500' }), MTA_OUTBOUND_PORT: mx1.port },
      resolver: createLabResolver(`127.0.0.1:${dns.port}`, 500),
      hostname: 'mx.alpha.test',
      localDomains: ['alpha.test'],
      relayDomains: [],
      lmtp: { host: '127.0.0.1', port: mda.port },
      logger,
    });
    admin = await listenAdmin(createAdminApp({ queue: spool, runner, dns: runner.dns, logger }), [{ host: '127.0.0.1', port: 0 }]);
  });
  after(async () => {
    await admin.close();
    await runner.close();
    await Promise.all([mda.close(), mx1.close(), dns.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('classifies what the real resolver reports', async () => {
    const resolver = createLabResolver({ host: '127.0.0.1', port: dns.port }, 500);
    assert.deepEqual(await resolver.resolve4('mx1.beta.test', { ttl: true }), [{ address: '127.0.0.1', ttl: 60 }]);
    const failures = await Promise.all(
      [resolver.resolveMx('nowhere.test'), resolver.resolveMx('mx1.beta.test'), resolver.resolveMx('broken.test')].map((p) =>
        p.then(() => 'ok', (error: unknown) => classifyDnsError(error)),
      ),
    );
    assert.deepEqual(failures, ['nxdomain', 'nodata', 'temporary']);
  });

  it('routes by the lab DNS, bounces NXDOMAIN and defers SERVFAIL, visible on the admin endpoint', async () => {
    const mail = (rcpt: string) =>
      spool.enqueue({
        mailFrom: 'alice@alpha.test',
        rcptTo: [rcpt],
        message: Buffer.from(`From: alice@alpha.test\r\nTo: ${rcpt}\r\nSubject: t\r\nMessage-ID: <${rcpt}>\r\n\r\nhello\r\n`),
        source: 'submission',
        clientAddress: '127.0.0.1',
      });
    await mail('bob@beta.test');
    await mail('x@nowhere.test');
    const { queueId: deferredId } = await mail('y@broken.test');

    await waitFor(() => mx1.received.length === 1 && mda.received.length === 1, 15_000, 'delivery and bounce');
    await waitFor(() => spool.get(deferredId)?.recipients[0]?.status === 'deferred' && spool.size === 1, 15_000, 'deferral');
    assert.deepEqual(mx1.received[0]?.rcptTo, ['bob@beta.test']);
    assert.ok(dns.queries.includes('MX beta.test') && dns.queries.includes('A mx1.beta.test'));
    const bounce = mda.received[0]?.data.toString() ?? '';
    assert.match(bounce, /^Final-Recipient: rfc822; x@nowhere\.test$/m);
    assert.match(bounce, /^Status: 5\.1\.2$/m);
    assert.match(spool.get(deferredId)?.recipients[0]?.lastReply ?? '', /^451 4\.4\.3 /);

    const port = admin.addresses[0]?.port;
    const listed = (await (await fetch(`http://127.0.0.1:${port}/queue`)).json()) as { messages: { queueId: string }[] };
    assert.deepEqual(listed.messages.map((m) => m.queueId), [deferredId]);

    // GET /dns: the answers routed by, with the zone's TTL; NXDOMAIN kept, SERVFAIL not.
    const cache = (await (await fetch(`http://127.0.0.1:${port}/dns`)).json()) as { entries: { name: string; type: string; result: string; answers: unknown[]; ttl: number; secondsLeft: number }[] };
    const entry = (type: string, name: string) => cache.entries.find((item) => item.type === type && item.name === name);
    assert.deepEqual(entry('MX', 'beta.test')?.answers, [{ preference: 10, exchange: 'mx1.beta.test' }]);
    assert.equal(entry('MX', 'beta.test')?.ttl, 60);
    assert.ok((entry('MX', 'beta.test')?.secondsLeft ?? 0) > 0);
    assert.deepEqual(entry('A', 'mx1.beta.test')?.answers, [{ address: '127.0.0.1' }]);
    assert.equal(entry('MX', 'nowhere.test')?.result, 'nxdomain');
    assert.equal(entry('MX', 'broken.test'), undefined);
  });
});
