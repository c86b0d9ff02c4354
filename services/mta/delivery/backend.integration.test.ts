import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { createLogger } from '../../../shared/log.ts';
import { loadMtaConfig } from '../config.ts';
import { Spool } from '../queue/spool.ts';
import { classifyDnsError, createLabResolver } from '../routing/resolver.ts';
import { startMtaBackend, type MtaBackend } from './backend.ts';
import { startFakePeer, waitFor, type FakePeer } from './test-peers.ts';

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

describe('MTA back end on the lab DNS (real resolver, real sockets)', () => {
  let dir: string;
  let dns: Awaited<ReturnType<typeof startDns>>;
  let mda: FakePeer;
  let mx1: FakePeer;
  let spool: Spool;
  let backend: MtaBackend;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-backend-'));
    dns = await startDns();
    mda = await startFakePeer({ lmtp: true });
    mx1 = await startFakePeer();
    const config = loadMtaConfig({
      MTA_NAME: 'alpha-mta',
      MTA_HOSTNAME: 'mx.alpha.test',
      MTA_LOCAL_DOMAINS: 'alpha.test',
      MTA_QUEUE_DIR: join(dir, 'queue'),
      MXLAB_TLS_DIR: join(dir, 'tls'),
      MTA_DNS_SERVER: `127.0.0.1:${dns.port}`,
      MTA_DNS_TIMEOUT_MS: '500',
      MTA_LMTP: `127.0.0.1:${mda.port}`,
      MTA_OUTBOUND_PORT: String(mx1.port),
      MTA_ADMIN_LISTEN: '127.0.0.1:0',
    });
    spool = await Spool.open({ dir: config.MTA_QUEUE_DIR, logger });
    backend = await startMtaBackend({ config, queue: spool, logger });
  });
  after(async () => {
    await backend.close();
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

    const port = backend.admin?.addresses[0]?.port;
    const listed = (await (await fetch(`http://127.0.0.1:${port}/queue`)).json()) as { messages: { queueId: string }[] };
    assert.deepEqual(listed.messages.map((m) => m.queueId), [deferredId]);
  });
});
