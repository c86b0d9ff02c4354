/**
 * The backup MX journey with three real MTAs in-process (DESIGN.md, issue 4 "Done when"):
 * alice submits to alpha-mta while beta-mx1 is down; alpha-mta falls back to beta-mx2,
 * which keeps the message queued and forwards it to beta-mx1 once beta-mx1 is back —
 * where it lands exactly once. The exchanges listen on their own loopback addresses on
 * one shared port (MTA_OUTBOUND_PORT), as in the no-Docker lab.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { createLogger } from '../../../shared/log.ts';
import { readLabCa } from '../../../shared/tls.ts';
import type { MtaConfig } from '../config.ts';
import { Spool } from '../queue/spool.ts';
import { scriptedResolver } from '../testing/scripted-resolver.ts';
import { startMta, type MtaHandle } from '../server.ts';
import { createTestLab, type TestLab } from '../testing/smtp.ts';
import { startFakePeer, waitFor, type FakePeer } from '../testing/peers.ts';

const logger = createLogger('test');
const MX1 = '127.0.0.3';
const MX2 = '127.0.0.4';

/** A port free on both exchange addresses. */
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

describe('backup MX journey (alpha-mta → beta-mx2 → beta-mx1)', () => {
  let lab: TestLab;
  let mda: FakePeer;
  let port: number;
  const mtas: MtaHandle[] = [];
  const resolver = scriptedResolver({
    mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'mx2.beta.test', priority: 20 }] },
    a: { 'mx1.beta.test': [MX1], 'mx2.beta.test': [MX2] },
  });

  function config(name: 'alpha-mta' | 'beta-mx1' | 'beta-mx2', env: Record<string, string>): MtaConfig {
    return lab.config({
      MTA_NAME: name,
      MTA_QUEUE_DIR: join(lab.dir, 'queue', name),
      MTA_OUTBOUND_PORT: String(port),
      MTA_LMTP: `127.0.0.1:${mda.port}`,
      MTA_RETRY_FIRST_DELAY_MS: '300',
      MTA_RETRY_MAX_DELAY_MS: '1000',
      MTA_CONNECT_TIMEOUT_MS: '1000',
      ...env,
    });
  }

  async function start(cfg: MtaConfig): Promise<MtaHandle> {
    const queue = await Spool.open({ dir: cfg.MTA_QUEUE_DIR, logger });
    const mta = await startMta(cfg, { queue, resolver, logger, earlyTalkerWaitMs: 0 });
    mtas.push(mta);
    return mta;
  }

  before(async () => {
    lab = await createTestLab();
    mda = await startFakePeer({ lmtp: true });
    port = await sharedPort();
  });
  after(async () => {
    await Promise.all(mtas.map((mta) => mta.close()));
    await mda.close();
    await lab.remove();
  });

  it('waits on beta-mx2 while beta-mx1 is down and arrives exactly once when it is back', async () => {
    const alpha = await start(config('alpha-mta', { MTA_SMTP_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '' }));
    const mx2Config = config('beta-mx2', {
      MTA_HOSTNAME: 'mx2.beta.test',
      MTA_LOCAL_DOMAINS: '',
      MTA_RELAY_DOMAINS: 'beta.test',
      MTA_SMTP_LISTEN: `${MX2}:${port}`,
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
    });
    const mx2 = await start(mx2Config);
    const mx2Queue = mx2.queue as Spool;

    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: alpha.submission[0]?.port ?? 0,
      requireTLS: true,
      tls: { ca: await readLabCa(lab.tlsDir), servername: 'mx.alpha.test' },
      auth: { user: 'alice@alpha.test', pass: 'secret' },
    });
    try {
      await transport.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'while mx1 is down', text: 'hello', messageId: '<backup-1@alpha.test>' });
    } finally {
      transport.close();
    }

    await waitFor(() => (alpha.queue as Spool).size === 0 && mx2Queue.size === 1, 15_000, 'the message to wait on beta-mx2');
    await waitFor(() => (mx2Queue.list()[0]?.recipients[0]?.attempts ?? 0) >= 2, 15_000, 'beta-mx2 to retry');
    assert.equal(mx2Queue.list()[0]?.recipients[0]?.status, 'deferred');
    assert.equal(mda.received.length, 0);

    const mx1 = await start(
      config('beta-mx1', {
        MTA_HOSTNAME: 'mx1.beta.test',
        MTA_LOCAL_DOMAINS: 'beta.test',
        MTA_SMTP_LISTEN: `${MX1}:${port}`,
        MTA_SUBMISSION_LISTEN: '',
        MTA_SUBMISSIONS_LISTEN: '',
      }),
    );
    await waitFor(() => mda.received.length === 1 && mx2Queue.size === 0 && (mx1.queue as Spool).size === 0, 20_000, 'delivery through beta-mx1');
    mx2.delivery?.flush();
    await mx2.delivery?.settled();
    await mx1.delivery?.settled();

    assert.equal(mda.received.length, 1, 'exactly once');
    const delivered = mda.received[0];
    assert.deepEqual(delivered?.rcptTo, ['bob@beta.test']);
    const text = delivered?.data.toString() ?? '';
    assert.match(text, /^Message-ID: <backup-1@alpha\.test>$/m);
    const hops = [...text.matchAll(/^Received: [^]*?\sby (\S+)/gm)].map((match) => match[1]);
    assert.deepEqual(hops, ['mx1.beta.test', 'mx2.beta.test', 'mx.alpha.test'], 'one Received per hop, newest first');
  });
});
