import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../shared/log.ts';
import { Spool } from '../queue/spool.ts';
import { ChaosEngine } from '../../../shared/chaos/engine.ts';
import { QueueClock } from '../queue/clock.ts';
import { createAdminApp, type AdminRunner } from './app.ts';
import { listenAdmin, type AdminServerHandle } from './listen.ts';

const logger = createLogger('test');

class RecordingRunner implements AdminRunner {
  readonly flushed: (string | undefined)[] = [];
  flush(queueId?: string): boolean {
    this.flushed.push(queueId);
    return true;
  }
  inFlight(): string[] {
    return [];
  }
  kicks = 0;
  kick(): void {
    this.kicks += 1;
  }
  async expireOverdue(): Promise<string[]> {
    return [];
  }
}

describe('MTA admin endpoint', () => {
  let dir: string;
  let spool: Spool;
  let server: AdminServerHandle;
  let base: string;
  const runner = new RecordingRunner();
  const chaos = new ChaosEngine();
  const clock = new QueueClock();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-admin-'));
    spool = await Spool.open({ dir, logger });
    server = await listenAdmin(createAdminApp({ queue: spool, runner, chaos, clock, logger, name: 'alpha-mta' }), [{ host: '127.0.0.1', port: 0 }]);
    base = `http://127.0.0.1:${server.addresses[0]?.port}`;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('answers /healthz', async () => {
    const { status, json } = await call('GET', '/healthz');
    assert.equal(status, 200);
    assert.equal(json.status, 'ok');
    assert.equal(json.name, 'alpha-mta');
  });

  it('lists, flushes and deletes queued messages', async () => {
    const { queueId } = await spool.enqueue({
      mailFrom: 'alice@alpha.test',
      rcptTo: ['bob@beta.test'],
      message: Buffer.from('Subject: x\r\n\r\ny\r\n'),
      messageId: '<a1@alpha.test>',
      source: 'submission',
      clientAddress: '127.0.0.1',
    });
    await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'deferred', attempts: 1, lastReply: '451 4.4.1 no answer', nextAttemptAt: Date.UTC(2030, 0, 1) });
    const list = await call('GET', '/queue');
    assert.equal(list.status, 200);
    assert.deepEqual(
      (list.json.messages as { queueId: string; from: string; recipients: unknown[] }[]).map((m) => [m.queueId, m.from, m.recipients]),
      [[queueId, 'alice@alpha.test', [{ recipient: 'bob@beta.test', status: 'deferred', attempts: 1, nextAttemptAt: '2030-01-01T00:00:00.000Z', lastReply: '451 4.4.1 no answer' }]]],
    );

    assert.deepEqual((await call('POST', `/queue/${queueId}/flush`)).json, { flushed: 1, queueId });
    assert.equal((await call('POST', '/queue/flush')).status, 200);
    assert.deepEqual(runner.flushed, [queueId, undefined]);
    assert.equal((await call('POST', '/queue/0000000000000000BEEF/flush')).status, 404);

    assert.deepEqual((await call('DELETE', `/queue/${queueId}`)).json, { deleted: queueId });
    assert.equal((await call('DELETE', `/queue/${queueId}`)).status, 404);
    assert.equal((await call('DELETE', '/queue/..%2F..%2Fetc')).status, 404);
    assert.deepEqual((await call('GET', '/queue')).json, { messages: [] });
  });

  it('adds, lists, removes and clears chaos rules, refusing bad ones with the field named', async () => {
    const rule = { id: 'bob-451', stage: 'rcpt', match: { rcpt: 'bob@beta.test' }, times: 3, reply: { code: 451, enhanced: '4.3.0', text: 'try later' } };
    const set = await call('POST', '/chaos/rules', rule);
    assert.equal(set.status, 201);
    assert.equal(set.json.id, 'bob-451');
    assert.deepEqual(set.json.reply, rule.reply);
    assert.equal(set.json.fired, 0);
    assert.equal((await call('POST', '/chaos/rules', rule)).status, 409);
    const second = await call('POST', '/chaos/rules', { stage: 'mail', delayMs: 100 });
    assert.equal(second.json.id, 'mail-1');
    const listed = await call('GET', '/chaos/rules');
    assert.deepEqual((listed.json.rules as { id: string; fired: number }[]).map((r) => [r.id, r.fired]), [['bob-451', 0], ['mail-1', 0]]);
    assert.deepEqual((await call('GET', '/chaos')).json, listed.json);

    const bad = await call('POST', '/chaos/rules', { stage: 'rcpt', reply: { code: 250 } });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /^invalid chaos rule: reply\.code: /u);
    const badPlan = await call('PUT', '/chaos/rules', { rules: [{ stage: 'helo', reply: { code: 554 } }, { stage: 'rcpt', until: '2099-01-01T00:00:00Z', reply: { code: 451 } }] });
    assert.equal(badPlan.status, 400);
    assert.match(String(badPlan.json.error), /rules\.1\.until: is more than 24 h away/u);
    assert.deepEqual((await call('GET', '/chaos/rules')).json, listed.json, 'a bad plan changes nothing');

    assert.deepEqual((await call('DELETE', '/chaos/rules/mail-1')).json, { deleted: 'mail-1' });
    assert.equal((await call('DELETE', '/chaos/rules/mail-1')).status, 404);
    assert.deepEqual((await call('DELETE', '/chaos/rules')).json, { deleted: 1 });
    assert.deepEqual((await call('GET', '/chaos/rules')).json, { rules: [] });
  });

  it('moves the queue clock forward, and refuses a step back', async () => {
    const kicks = runner.kicks;
    const moved = await call('POST', '/queue/advance', { seconds: 90 });
    assert.equal(moved.status, 200);
    assert.equal(moved.json.offsetSeconds, 90);
    assert.deepEqual(moved.json.expired, []);
    assert.equal(runner.kicks, kicks + 1);
    assert.equal(clock.offset, 90_000);
    const back = await call('POST', '/queue/advance', { seconds: -5 });
    assert.equal(back.status, 400);
    assert.match(String(back.json.error), /seconds: /u);
    assert.equal(clock.offset, 90_000);
  });

  it('answers malformed JSON with 400 and unknown routes with 404', async () => {
    const res = await fetch(`${base}/chaos/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(res.status, 400);
    assert.equal((await call('GET', '/nothing')).status, 404);
  });
});
