import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { createLogger } from '../../../shared/log.ts';
import { Spool } from '../queue/spool.ts';
import type { EnqueueRequest } from '../queue/types.ts';
import { scriptedResolver, type ScriptedZone } from '../testing/scripted-resolver.ts';
import { deliveryConfigSchema } from './config.ts';
import { startDelivery, type DeliveryRunner, type StartDeliveryOptions } from './runner.ts';
import { closedPort, startFakePeer, waitFor, type FakePeer } from '../testing/peers.ts';

const logger = createLogger('test');

function labConfig(overrides: Record<string, string> = {}) {
  return deliveryConfigSchema.parse({
    MTA_RETRY_FIRST_DELAY_MS: '60000',
    MTA_CONNECT_TIMEOUT_MS: '1000',
    MTA_COMMAND_TIMEOUT_MS: '2000',
    MTA_DELAY_WARNING_AFTER_MS: '0',
    ...overrides,
  });
}

function mail(overrides: Partial<EnqueueRequest> = {}): EnqueueRequest {
  return {
    mailFrom: 'alice@alpha.test',
    rcptTo: ['bob@beta.test'],
    message: Buffer.from('From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: hi\r\nMessage-ID: <r1@alpha.test>\r\n\r\nhello\r\n'),
    messageId: '<r1@alpha.test>',
    source: 'submission',
    clientAddress: '127.0.0.1',
    ...overrides,
  };
}

const BETA: ScriptedZone = {
  mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'mx2.beta.test', priority: 20 }] },
  a: { 'mx1.beta.test': ['127.0.0.1'], 'mx2.beta.test': ['127.0.0.2'] },
};

describe('delivery runner', () => {
  let dir: string;
  let spool: Spool;
  const peers: FakePeer[] = [];
  const runners: DeliveryRunner[] = [];
  const ports: Record<string, number> = {};

  async function peer(script: Parameters<typeof startFakePeer>[0] = {}): Promise<FakePeer> {
    const started = await startFakePeer(script);
    peers.push(started);
    return started;
  }

  function runner(overrides: Partial<StartDeliveryOptions> & { lmtpPort: number }): DeliveryRunner {
    const started = startDelivery({
      queue: spool,
      config: labConfig(),
      resolver: scriptedResolver(BETA),
      hostname: 'mx.alpha.test',
      localDomains: ['alpha.test'],
      relayDomains: [],
      lmtp: { host: '127.0.0.1', port: overrides.lmtpPort },
      logger,
      portFor: (_address, exchange) => ports[exchange] ?? 1,
      ...overrides,
    });
    runners.push(started);
    return started;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-runner-'));
    spool = await Spool.open({ dir, logger });
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.close()));
    await Promise.all(peers.splice(0).map((p) => p.close()));
    for (const key of Object.keys(ports)) delete ports[key];
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers local mail over LMTP and remote mail by MX, then forgets it', async () => {
    const mda = await peer({ lmtp: true });
    const mx1 = await peer();
    ports['mx1.beta.test'] = mx1.port;
    const delivery = runner({ lmtpPort: mda.port });
    await spool.enqueue(mail({ rcptTo: ['bob@beta.test', 'alice@alpha.test'] }));
    await waitFor(() => spool.size === 0, 10_000, 'queue to drain');
    await delivery.settled();
    assert.deepEqual(mda.received.map((m) => m.rcptTo), [['alice@alpha.test']]);
    assert.deepEqual(mx1.received.map((m) => m.rcptTo), [['bob@beta.test']]);
  });

  it('defers a temporary failure with backoff and delivers once on flush', async () => {
    const mda = await peer({ lmtp: true });
    let refuse = true;
    const mx1 = await peer({ rcpt: () => (refuse ? [451, '4.3.0 greylisted'] : undefined) });
    ports['mx1.beta.test'] = mx1.port;
    ports['mx2.beta.test'] = await closedPort('127.0.0.2');
    const delivery = runner({ lmtpPort: mda.port, config: labConfig({ MTA_RETRY_FIRST_DELAY_MS: '60000' }) });
    const before = Date.now();
    const { queueId } = await spool.enqueue(mail());
    await waitFor(() => spool.get(queueId)?.recipients[0]?.status === 'deferred', 10_000, 'deferral');
    const state = spool.get(queueId)?.recipients[0];
    assert.equal(state?.attempts, 1);
    assert.match(state?.lastReply ?? '', /^451 /);
    assert.ok((state?.nextAttemptAt ?? 0) >= before + 60_000, 'first retry after MTA_RETRY_FIRST_DELAY_MS');
    refuse = false;
    assert.equal(delivery.flush(queueId), true);
    await waitFor(() => spool.size === 0, 10_000, 'delivery after flush');
    delivery.flush();
    await delivery.settled();
    assert.equal(mx1.received.length, 1);
    assert.equal(delivery.flush('0000000000000000DEAD'), false);
  });

  it('bounces a permanent failure to the sender with a DSN, and never bounces a bounce', async () => {
    const mda = await peer({ lmtp: true });
    const mx1 = await peer({ rcpt: () => [550, '5.1.1 no such user'] });
    ports['mx1.beta.test'] = mx1.port;
    runner({ lmtpPort: mda.port });
    await spool.enqueue(mail({ rcptTo: ['nobody@beta.test'] }));
    await waitFor(() => mda.received.length === 1 && spool.size === 0, 10_000, 'bounce delivered');
    const bounce = mda.received[0];
    assert.equal(bounce?.mailFrom, '');
    assert.deepEqual(bounce?.rcptTo, ['alice@alpha.test']);
    const text = bounce?.data.toString() ?? '';
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(text, /^Final-Recipient: rfc822; nobody@beta\.test$/m);
    assert.match(text, /^Action: failed$/m);
    assert.match(text, /^Status: 5\.1\.1$/m);
    assert.match(text, /^Diagnostic-Code: smtp; 550 5\.1\.1 no such user$/m);
    assert.match(text, /^Message-ID: <r1@alpha\.test>$/m);

    await spool.enqueue(mail({ mailFrom: '', rcptTo: ['nobody@beta.test'], messageId: '<r2@alpha.test>' }));
    await waitFor(() => spool.size === 0, 10_000, 'null-sender failure to leave the queue');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(mda.received.length, 1, 'no bounce for a null-sender message');
    assert.equal(spool.size, 0);
  });

  it('bounces with 4.4.7 once the queue lifetime is over', async () => {
    const mda = await peer({ lmtp: true });
    ports['mx1.beta.test'] = await closedPort();
    ports['mx2.beta.test'] = await closedPort('127.0.0.2');
    runner({ lmtpPort: mda.port, config: labConfig({ MTA_MAX_QUEUE_LIFETIME_MS: '1' }) });
    await spool.enqueue(mail());
    await waitFor(() => mda.received.length === 1 && spool.size === 0, 10_000, 'expiry bounce');
    const text = mda.received[0]?.data.toString() ?? '';
    assert.match(text, /^Status: 4\.4\.7$/m);
    assert.match(text, /^Action: failed$/m);
  });

  it('sends one delay warning for a message still being retried', async () => {
    const mda = await peer({ lmtp: true });
    ports['mx1.beta.test'] = await closedPort();
    ports['mx2.beta.test'] = await closedPort('127.0.0.2');
    const delivery = runner({ lmtpPort: mda.port, config: labConfig({ MTA_DELAY_WARNING_AFTER_MS: '1' }) });
    const { queueId } = await spool.enqueue(mail());
    await waitFor(() => mda.received.length === 1, 10_000, 'delay warning');
    delivery.flush(queueId);
    await waitFor(() => spool.get(queueId)?.recipients[0]?.attempts === 2, 10_000, 'second attempt');
    await delivery.settled();
    assert.equal(mda.received.length, 1, 'a single warning');
    assert.match(mda.received[0]?.data.toString() ?? '', /^Action: delayed$/m);
    assert.equal(spool.get(queueId)?.recipients[0]?.status, 'deferred');
    assert.equal(spool.get(queueId)?.recipients[0]?.warned, true);
  });

  it('as backup MX keeps mail queued while the primary is down and forwards it exactly once when it is back', async () => {
    const mda = await peer({ lmtp: true });
    const mx1Port = await closedPort();
    const self = await peer({ host: '127.0.0.2' });
    ports['mx1.beta.test'] = mx1Port;
    ports['mx2.beta.test'] = self.port;
    const delivery = runner({
      lmtpPort: mda.port,
      hostname: 'mx2.beta.test',
      localDomains: [],
      relayDomains: ['beta.test'],
    });
    const { queueId } = await spool.enqueue(mail({ source: 'mx' }));
    await waitFor(() => spool.get(queueId)?.recipients[0]?.status === 'deferred', 10_000, 'deferral while mx1 is down');
    delivery.flush(queueId);
    await waitFor(() => spool.get(queueId)?.recipients[0]?.attempts === 2, 10_000, 'second attempt');
    assert.equal(self.connections, 0, 'the backup never sends to itself');
    assert.equal(mda.received.length, 0, 'no bounce while waiting');

    const mx1 = await peer({ port: mx1Port });
    delivery.flush();
    await waitFor(() => spool.size === 0, 10_000, 'forwarding to mx1');
    delivery.flush();
    await delivery.settled();
    assert.equal(mx1.received.length, 1);
    assert.deepEqual(mx1.received[0]?.rcptTo, ['bob@beta.test']);
    assert.equal(self.connections, 0);
  });

  it('logs every lookup and every attempt with queue id, Message-ID, exchange, address and result', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const mda = await peer({ lmtp: true });
    const mx1 = await peer();
    ports['mx1.beta.test'] = mx1.port;
    runner({ lmtpPort: mda.port, logger: capture });
    const { queueId } = await spool.enqueue(mail());
    await waitFor(() => spool.size === 0, 10_000, 'delivery');
    const ofMessage = lines.filter((line) => line.queueId === queueId && line.messageId === '<r1@alpha.test>');
    const lookups = ofMessage.filter((line) => line.event === 'dns.lookup').map((line) => `${String(line.type)} ${String(line.name)} ${String(line.result)}`);
    assert.deepEqual(lookups, ['MX beta.test ok', 'A mx1.beta.test ok', 'AAAA mx1.beta.test nodata', 'A mx2.beta.test ok', 'AAAA mx2.beta.test nodata']);
    const attempt = ofMessage.find((line) => line.event === 'delivery.attempt');
    assert.equal(attempt?.exchange, 'mx1.beta.test');
    assert.equal(attempt?.address, '127.0.0.1');
    assert.equal(attempt?.result, 'transaction');
    assert.ok(ofMessage.some((line) => line.event === 'delivery.result' && line.status === 'delivered' && line.rcpt === 'bob@beta.test'));
  });

  it('picks up mail left in the spool by an earlier run', async () => {
    const { queueId } = await spool.enqueue(mail({ rcptTo: ['alice@alpha.test'] }));
    spool = await Spool.open({ dir, logger });
    assert.ok(spool.has(queueId));
    const mda = await peer({ lmtp: true });
    runner({ lmtpPort: mda.port });
    await waitFor(() => spool.size === 0, 10_000, 'delivery after restart');
    assert.equal(mda.received.length, 1);
  });
});
