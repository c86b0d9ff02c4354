/**
 * Fault plans over real sockets (issue 16, "Tests"): alpha-mta, beta-mx1 and beta-mx2 in
 * process on their own loopback addresses (127.70.0.X, this suite's net), a fake MDA over
 * LMTP, nodemailer and swaks as clients, the rules set through the admin endpoint, the
 * chaos CLI and MTA_CHAOS_PLAN, and the queue clock instead of real waits.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { readLabCa } from '../../../shared/tls.ts';
import { listQueue, listRules, type ChaosRuleView } from '../admin/client.ts';
import { runChaosCli } from '../chaos-cli.ts';
import { runCli as runQueueCli } from '../cli.ts';
import type { MtaConfig } from '../config.ts';
import { startFakePeer, type FakePeer } from '../testing/peers.ts';
import { scriptedResolver } from '../testing/scripted-resolver.ts';
import { startMta, type MtaHandle } from '../server.ts';
import { createTestLab, type TestLab } from '../testing/smtp.ts';

const run = promisify(execFile);
const ALPHA = '127.70.0.10';
const MX1 = '127.70.0.20';
const MX2 = '127.70.0.21';
const CLIENT_A = '127.70.0.30';
const CLIENT_B = '127.70.0.31';
const EXAMPLE_PLAN = join(import.meta.dirname, '..', '..', '..', 'docs', 'chaos', 'example-plan.json');

type Name = 'alpha-mta' | 'beta-mx1' | 'beta-mx2';

/** A port free on both exchange addresses (they listen on one port, as in the lab). */
async function sharedPort(): Promise<number> {
  for (let tries = 0; tries < 20; tries += 1) {
    const first = createServer();
    await new Promise<void>((resolve) => first.listen(0, MX1, resolve));
    const port = (first.address() as { port: number }).port;
    const second = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      second.once('error', () => resolve(false));
      second.listen(port, MX2, () => resolve(true));
    });
    await new Promise<void>((resolve) => first.close(() => resolve()));
    if (ok) await new Promise<void>((resolve) => second.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error('no port free on both addresses');
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('fault plans, outbound faults, DNS faults and the queue clock', () => {
  let lab: TestLab;
  let mda: FakePeer;
  let port: number;
  let ca: string;
  const logs: Record<string, unknown>[] = [];
  const mtas = {} as Record<Name, MtaHandle>;
  const admin = {} as Record<Name, string>;
  const resolver = scriptedResolver({
    // Only the primary: a 4xx from it must wait in alpha-mta's queue, not move on to the backup.
    mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }] },
    a: { 'mx1.beta.test': [MX1], 'mx2.beta.test': [MX2] },
  });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });

  function config(name: Name, env: Record<string, string>): MtaConfig {
    return lab.config({
      MTA_NAME: name,
      MTA_QUEUE_DIR: join(lab.dir, 'queue', name),
      MTA_OUTBOUND_PORT: String(port),
      MTA_LMTP: `127.0.0.1:${mda.port}`,
      MTA_SMTP_LISTEN: '',
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
      MTA_DELAY_WARNING_AFTER_MS: '0',
      ...env,
    });
  }

  async function start(name: Name, cfg: MtaConfig): Promise<void> {
    mtas[name] = await startMta(cfg, { resolver, logger: logger.child({ service: name }), earlyTalkerWaitMs: 0 });
    admin[name] = `http://${cfg.MTA_ADMIN_LISTEN[0]?.host}:${mtas[name].admin?.port}`;
  }

  const submit = async (to: string[], messageId: string) => {
    const transport = nodemailer.createTransport({
      host: ALPHA,
      port: mtas['alpha-mta'].submission[0]?.port ?? 0,
      requireTLS: true,
      tls: { ca, servername: 'mx.alpha.test' },
      auth: { user: 'alice@alpha.test', pass: 'secret' },
    });
    try {
      await transport.sendMail({ from: 'alice@alpha.test', to, subject: messageId, text: `message ${messageId}`, messageId });
    } finally {
      transport.close();
    }
  };

  const copies = (messageId: string, rcpt: string) =>
    mda.received.filter((message) => message.rcptTo.includes(rcpt) && message.data.toString().includes(`Message-ID: ${messageId}`));

  const recipientState = async (mta: Name, rcpt: string) => {
    const messages = await listQueue(admin[mta]);
    for (const message of messages) {
      const state = message.recipients.find((r) => r.recipient === rcpt);
      if (state) return { queueId: message.queueId, ...state };
    }
    return undefined;
  };

  const rule = async (mta: Name, id: string): Promise<ChaosRuleView | undefined> => (await listRules(admin[mta])).find((r) => r.id === id);

  before(async () => {
    lab = await createTestLab();
    mda = await startFakePeer({ lmtp: true });
    port = await sharedPort();
    await start('beta-mx1', config('beta-mx1', {
      MTA_HOSTNAME: 'mx1.beta.test',
      MTA_LOCAL_DOMAINS: 'beta.test',
      MTA_SMTP_LISTEN: `${MX1}:${port}`,
      MTA_ADMIN_LISTEN: `${MX1}:0`,
      MTA_SOURCE_ADDRESS: MX1,
      MTA_CHAOS_PLAN: EXAMPLE_PLAN,
    }));
    await start('beta-mx2', config('beta-mx2', {
      MTA_HOSTNAME: 'mx2.beta.test',
      MTA_LOCAL_DOMAINS: '',
      MTA_RELAY_DOMAINS: 'beta.test',
      MTA_SMTP_LISTEN: `${MX2}:${port}`,
      MTA_ADMIN_LISTEN: `${MX2}:0`,
      MTA_SOURCE_ADDRESS: MX2,
    }));
    await start('alpha-mta', config('alpha-mta', {
      MTA_SUBMISSION_LISTEN: `${ALPHA}:0`,
      MTA_ADMIN_LISTEN: `${ALPHA}:0`,
      MTA_SOURCE_ADDRESS: ALPHA,
    }));
    ca = await readLabCa(lab.tlsDir);
  });

  after(async () => {
    await Promise.all(Object.values(mtas).map((mta) => mta.close()));
    await mda.close();
    await lab.remove();
  });

  after(() => {
    if (process.env.CHAOS_TEST_LOGS) for (const line of logs) if (String(line.event ?? '').match(/chaos|delivery|queue/u)) console.log(JSON.stringify(line));
  });

  it("loads beta-mx1's rules of the example plan at start (MTA_CHAOS_PLAN), and nothing on the others", async () => {
    assert.deepEqual((await listRules(admin['beta-mx1'])).map((r) => [r.id, r.fired]), [['bob-451', 0], ['rate-421', 0]]);
    assert.deepEqual(await listRules(admin['alpha-mta']), []);
    assert.deepEqual(await listRules(admin['beta-mx2']), []);
  });

  describe('with a fresh plan each', () => {
    beforeEach(async () => {
      for (const name of ['alpha-mta', 'beta-mx1', 'beta-mx2'] as const) await runChaosCli(['--url', admin[name], 'clear']);
    });

    it('451 for bob on the first three RCPTs: deferred three times in alpha-mta\'s queue, delivered on the fourth; carol at once', async () => {
      const loaded = await runChaosCli(['load', EXAMPLE_PLAN, '--urls', `beta-mx1=${admin['beta-mx1']}`]);
      assert.match(loaded, /^beta-mx1: 2 rules \(bob-451, rate-421\)$/mu);
      await submit(['bob@beta.test', 'carol@beta.test'], '<chaos-451@alpha.test>');
      await until('carol delivered', () => copies('<chaos-451@alpha.test>', 'carol@beta.test').length === 1);
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const state = await until(`deferral ${attempt}`, async () => {
          const found = await recipientState('alpha-mta', 'bob@beta.test');
          return found?.attempts === attempt && found.status === 'deferred' ? found : undefined;
        });
        assert.match(state.lastReply ?? '', /^451 4\.3\.0 try later/u, `reply of attempt ${attempt}`);
        assert.equal(copies('<chaos-451@alpha.test>', 'bob@beta.test').length, 0);
        const moved = await runQueueCli(['--url', admin['alpha-mta'], 'advance', '60']);
        assert.match(moved, /^queue clock \d+ s ahead of real time/u);
      }
      await until('bob delivered on the fourth attempt', () => copies('<chaos-451@alpha.test>', 'bob@beta.test').length === 1);
      await until("alpha-mta's queue empty", async () => (await listQueue(admin['alpha-mta'])).length === 0);
      assert.deepEqual(await rule('beta-mx1', 'bob-451').then((r) => [r?.matched, r?.fired]), [4, 3]);
      assert.equal(copies('<chaos-451@alpha.test>', 'carol@beta.test').length, 1, 'carol once, not again with bob');
    });

    it('a rate rule answers 421 4.7.0 to the 11th message in a minute from one client, not to another client', async () => {
      await runChaosCli(['load', EXAMPLE_PLAN, '--urls', `beta-mx1=${admin['beta-mx1']}`]);
      const fromA = nodemailer.createTransport({ host: MX1, port, localAddress: CLIENT_A, ignoreTLS: true });
      try {
        for (let i = 1; i <= 10; i += 1) await fromA.sendMail({ from: 'x@example.org', to: 'carol@beta.test', subject: `bulk ${i}`, text: 'hi' });
        await assert.rejects(fromA.sendMail({ from: 'x@example.org', to: 'carol@beta.test', subject: 'bulk 11', text: 'hi' }), (error: Error & { responseCode?: number; response?: string }) => {
          assert.equal(error.responseCode, 421);
          assert.match(error.response ?? '', /^421 4\.7\.0 too many messages from your address/u);
          return true;
        });
      } finally {
        fromA.close();
      }
      const swaks = await run('swaks', ['--server', MX1, '--port', String(port), '--local-interface', CLIENT_B, '--from', 'y@example.org', '--to', 'carol@beta.test', '--header', 'Subject: from B']);
      assert.match(swaks.stdout + swaks.stderr, /250 2\.0\.0 Ok: queued as/u);
      const rate = await rule('beta-mx1', 'rate-421');
      assert.deepEqual([rate?.matched, rate?.fired], [12, 1]);
    });

    it('a connection dropped in the middle of DATA leaves nothing stored, and the sender retries', async () => {
      const set = await runChaosCli(['--url', admin['beta-mx1'], 'set', '{"id":"cut","stage":"data","drop":"mid-data","times":1}']);
      assert.match(set, /^cut +data/u);
      const seen = logs.length;
      await submit(['carol@beta.test'], '<chaos-cut@alpha.test>');
      // A first try on a connection kept from an earlier message is tried again at once on a new
      // one (smtp-client.ts); a first try on a new connection waits in the queue: retried here.
      let retried = false;
      await until('delivery after the retry', async () => {
        if (copies('<chaos-cut@alpha.test>', 'carol@beta.test').length === 1) return true;
        const state = await recipientState('alpha-mta', 'carol@beta.test');
        if (state?.status === 'deferred' && !retried) {
          assert.match(state.lastReply ?? '', /^451 4\.4\.1 mx1\.beta\.test \[127\.70\.0\.20\]:\d+: ECONNECTION/u);
          assert.deepEqual(await listQueue(admin['beta-mx1']), [], 'nothing queued at beta-mx1');
          assert.match(await runQueueCli(['--url', admin['alpha-mta'], 'retry', state.queueId]), /^retrying /u);
          retried = true;
        }
        return undefined;
      });
      const lines = logs.slice(seen).filter((line) => line.messageId === '<chaos-cut@alpha.test>');
      const attempts = lines.filter((line) => line.service === 'alpha-mta' && line.event === 'delivery.attempt').map((line) => String(line.reply ?? line.result));
      // On a kept connection the cut and the new connection are one logged attempt.
      assert.equal(attempts.length, retried ? 2 : 1);
      if (retried) assert.match(attempts[0] ?? '', /ECONNECTION: Connection closed unexpectedly/u);
      assert.equal(logs.slice(seen).filter((line) => line.service === 'beta-mx1' && line.event === 'chaos.fired' && line.rule === 'cut').length, 1, 'cut once');
      const stored = lines.filter((line) => line.service === 'beta-mx1' && line.event === 'queue.enqueued');
      assert.equal(stored.length, 1, 'the cut message was never queued at beta-mx1, the retried one once');
      assert.equal(copies('<chaos-cut@alpha.test>', 'carol@beta.test').length, 1);
      assert.equal((await rule('beta-mx1', 'cut'))?.fired, 1);
    });

    it('SERVFAIL for beta.test MX keeps the mail queued; a replaced MX answer sends it to the backup', async () => {
      await runChaosCli(['--url', admin['alpha-mta'], 'set', '{"id":"mx-servfail","stage":"dns","match":{"name":"beta.test","type":"MX"},"fault":"servfail"}']);
      await submit(['carol@beta.test'], '<chaos-dns@alpha.test>');
      const state = await until('the deferral', async () => {
        const found = await recipientState('alpha-mta', 'carol@beta.test');
        return found?.status === 'deferred' ? found : undefined;
      });
      assert.match(state.lastReply ?? '', /^451 4\.4\.3 DNS lookup of beta\.test MX failed \(ESERVFAIL\)/u);
      const dns = (await (await fetch(`${admin['alpha-mta']}/dns`)).json()) as { entries: unknown[]; faults: { id: string; fired: number }[] };
      assert.deepEqual(dns.faults.map((fault) => [fault.id, fault.fired]), [['mx-servfail', 1]]);
      await runQueueCli(['--url', admin['alpha-mta'], 'advance', '60']);
      await until('a second SERVFAIL', async () => (await recipientState('alpha-mta', 'carol@beta.test'))?.attempts === 2);
      assert.equal(copies('<chaos-dns@alpha.test>', 'carol@beta.test').length, 0);

      await runChaosCli(['--url', admin['alpha-mta'], 'clear', 'mx-servfail']);
      await runChaosCli(['--url', admin['alpha-mta'], 'set', '{"id":"mx-backup","stage":"dns","match":{"name":"beta.test","type":"MX"},"fault":"replace","answer":[{"exchange":"mx2.beta.test","priority":10}]}']);
      await runQueueCli(['--url', admin['alpha-mta'], 'advance', '60']);
      const [delivered] = await until('delivery through the backup', () => {
        const found = copies('<chaos-dns@alpha.test>', 'carol@beta.test');
        return found.length === 1 ? found : undefined;
      });
      const hops = [...(delivered?.data.toString() ?? '').matchAll(/^Received: [^]*?\sby (\S+)/gmu)].map((match) => match[1]);
      assert.deepEqual(hops, ['mx1.beta.test', 'mx2.beta.test', 'mx.alpha.test']);
    });

    it('a TLS fault on the next hop is logged with the reason, and the mail goes on in plain text', async () => {
      await runChaosCli(['--url', admin['alpha-mta'], 'set', '{"id":"tls-name","stage":"outbound","match":{"exchange":"mx1.beta.test"},"fault":"tls-wrong-name","times":1}']);
      const seen = logs.length;
      await submit(['carol@beta.test'], '<chaos-tls@alpha.test>');
      const [delivered] = await until('delivery', () => {
        const found = copies('<chaos-tls@alpha.test>', 'carol@beta.test');
        return found.length === 1 ? found : undefined;
      });
      const lines = logs.slice(seen).filter((line) => line.service === 'alpha-mta');
      const fired = lines.find((line) => line.event === 'chaos.fired' && line.rule === 'tls-name');
      assert.equal(fired?.fault, 'tls-wrong-name');
      const failed = lines.find((line) => line.event === 'delivery.tls-failed');
      assert.match(String(failed?.reason), /wrong-name\.invalid/u, 'the reason names the name the certificate lacks');
      const lastHop = (delivered?.data.toString() ?? '').split('\r\nReceived: ')[0] ?? '';
      assert.match(lastHop, /^Received: from mx\.alpha\.test /u);
      assert.doesNotMatch(lastHop, /using TLS/u, 'sent on in plain text');
    });

    it('advance past the bounce deadline: the sender gets a DSN naming the last error', async () => {
      await runChaosCli(['--url', admin['beta-mx1'], 'set', '{"id":"busy","stage":"rcpt","match":{"rcpt":"carol@beta.test"},"reply":{"code":451,"enhanced":"4.3.0","text":"mailbox busy"}}']);
      await submit(['carol@beta.test'], '<chaos-expire@alpha.test>');
      const state = await until('the deferral', async () => {
        const found = await recipientState('alpha-mta', 'carol@beta.test');
        return found?.status === 'deferred' ? found : undefined;
      });
      const moved = await runQueueCli(['--url', admin['alpha-mta'], 'advance', '3600']);
      assert.match(moved, new RegExp(`bounced past their deadline: ${state.queueId}`, 'u'));
      const [dsn] = await until('the DSN to alice', () => {
        const found = mda.received.filter((message) => message.rcptTo.includes('alice@alpha.test') && message.mailFrom === '' && message.data.toString().includes('chaos-expire@alpha.test'));
        return found.length === 1 ? found : undefined;
      });
      const text = dsn?.data.toString() ?? '';
      assert.match(text, /^Content-Type: multipart\/report; report-type=delivery-status/imu);
      assert.match(text, /^Status: 4\.4\.7$/mu);
      assert.match(text, /^Diagnostic-Code: smtp; 451 4\.3\.0 mailbox busy/mu);
      await until("alpha-mta's queue empty", async () => (await listQueue(admin['alpha-mta'])).length === 0);
      assert.equal(copies('<chaos-expire@alpha.test>', 'carol@beta.test').length, 0);
    });

    it('a malformed plan is refused naming the field, and changes nothing', async () => {
      await runChaosCli(['load', EXAMPLE_PLAN, '--urls', `beta-mx1=${admin['beta-mx1']}`]);
      const before = await listRules(admin['beta-mx1']);
      const bad = join(lab.dir, 'bad-plan.json');
      await writeFile(bad, JSON.stringify({ mtas: { 'beta-mx1': { rules: [{ id: 'ok', stage: 'helo', reply: { code: 554 } }, { id: 'bad', stage: 'rcpt', reply: { code: 250 } }] } } }));
      await assert.rejects(runChaosCli(['load', bad, '--urls', `beta-mx1=${admin['beta-mx1']}`]), /mtas\.beta-mx1\.rules\.1\.reply\.code: /u);
      const put = await fetch(`${admin['beta-mx1']}/chaos/rules`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rules: [{ stage: 'rcpt', reply: { code: 451 }, blackhole: true }] }),
      });
      assert.equal(put.status, 400);
      assert.match(((await put.json()) as { error: string }).error, /rules\.0\.reply: give one of reply, drop and blackhole/u);
      assert.deepEqual(await listRules(admin['beta-mx1']), before);
    });
  });
});
