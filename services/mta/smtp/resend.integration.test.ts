/**
 * A transaction a lab MTA sends again after a lost 250 is not queued twice (issue 15):
 * over real sockets with nodemailer, through the durable spool, across a restart, and
 * when a crash came between the spool's fsync and the transaction log's.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { startMta, type MtaHandle } from '../server.ts';
import { Spool } from '../queue/spool.ts';
import { TRANSACTION_LOG_FILE } from './resend.ts';
import { createTestLab, type TestLab } from '../testing/smtp.ts';

const trace = (id: string) =>
  `Received: from mx.beta.test ([127.0.0.9])\r\n\tby mx2.beta.test (mxlab beta-mx2) with ESMTP id ${id}\r\n\tfor <alice@alpha.test>; Thu, 3 Dec 2026 08:00:00 +0000\r\n`;

function message(id: string | undefined, subject: string): string {
  return `${id ? trace(id) : ''}From: bob@beta.test\r\nTo: alice@alpha.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/gu, '')}@beta.test>\r\n\r\nhello\r\n`;
}

async function send(mta: MtaHandle, raw: string): Promise<string> {
  const port = mta.smtp[0]?.port;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'mx2.beta.test' });
  try {
    const info = await transport.sendMail({ envelope: { from: 'bob@beta.test', to: ['alice@alpha.test'] }, raw });
    return info.response;
  } finally {
    transport.close();
  }
}

const queued = (mta: MtaHandle, subject: string) => (mta.queue as Spool).list().filter((entry) => entry.messageId === `<${subject.replace(/\W/gu, '')}@beta.test>`);

describe('resent transactions of the lab MTAs', () => {
  let lab: TestLab;
  let mta: MtaHandle | undefined;
  // No MDA answers here: the queued messages stay queued (LMTP to a closed loopback port).
  const env = { MTA_LMTP: '127.0.0.1:1', MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '', MTA_PEER_ADDRESSES: '127.0.0.1' };
  const start = async (extra: Record<string, string> = {}) => (mta = await startMta(lab.config({ ...env, ...extra }), { earlyTalkerWaitMs: 0 }));

  before(async () => {
    lab = await createTestLab();
  });
  after(async () => {
    await mta?.close();
    await lab.remove();
  });

  it('answers a resend with the first 250 and queues the message once', async () => {
    const running = await start();
    const first = await send(running, message('019AB3C1F2E4A7F3C2B1', 'once'));
    assert.match(first, /^250 2\.0\.0 Ok: queued as [0-9A-F]+/u);
    const again = await send(running, message('019AB3C1F2E4A7F3C2B1', 'once'));
    assert.equal(again, first, 'the same reply as the first time');
    assert.equal(queued(running, 'once').length, 1);
    assert.deepEqual(queued(running, 'once')[0]?.transactionKeys, ['mx2.beta.test 019AB3C1F2E4A7F3C2B1 alice@alpha.test']);
  });

  it('takes every copy of mail without a lab trace id, as before', async () => {
    const running = mta!;
    await send(running, message(undefined, 'foreign'));
    await send(running, message(undefined, 'foreign'));
    assert.equal(queued(running, 'foreign').length, 2);
  });

  it('recognises the resend after a restart', async () => {
    await mta!.close();
    const running = await start();
    const before = queued(running, 'once');
    const again = await send(running, message('019AB3C1F2E4A7F3C2B1', 'once'));
    assert.match(again, new RegExp(`queued as ${before[0]?.queueId}`, 'u'));
    assert.equal(queued(running, 'once').length, 1);
  });

  it('recognises it from the spool entry when a crash came before the transaction log was written', async () => {
    await send(mta!, message('019AB3C1F2E4A7F3C2B2', 'crash'));
    await mta!.close();
    await rm(join(lab.dir, 'queue', TRANSACTION_LOG_FILE));
    const running = await start();
    await send(running, message('019AB3C1F2E4A7F3C2B2', 'crash'));
    assert.equal(queued(running, 'crash').length, 1);
    // …and the key is in the log again, so it outlives the spool entry.
    await running.close();
    const third = await start();
    assert.equal(queued(third, 'crash').length, 1);
  });

  it('does not trust trace ids from a client that is not a lab MTA', async () => {
    await mta!.close();
    const running = await start({ MTA_PEER_ADDRESSES: '127.0.0.2' });
    await send(running, message('019AB3C1F2E4A7F3C2B3', 'stranger'));
    await send(running, message('019AB3C1F2E4A7F3C2B3', 'stranger'));
    assert.equal(queued(running, 'stranger').length, 2);
  });
});
