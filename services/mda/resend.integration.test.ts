/**
 * The MDA does not write a transaction twice when the MTA sends it again after a lost
 * LMTP reply (issue 15), and finishes a delivery a crash cut between its log entry and
 * its rename: over real sockets with nodemailer in LMTP mode.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMdaConfig } from './config.ts';
import { transactionLogPath } from './resend.ts';
import { startMda, type RunningMda } from './server.ts';

const fromMx1 = (id: string) => `Received: from mx.alpha.test ([127.0.0.10])\r\n\tby mx1.beta.test (mxlab beta-mx1) with ESMTPS id ${id}\r\n\tfor <bob@beta.test>; Thu, 3 Dec 2026 08:00:00 +0000\r\n`;

describe('resent LMTP transactions', () => {
  let base = '';
  let root = '';
  let mda: RunningMda | undefined;
  const start = async () => {
    mda = await startMda(
      loadMdaConfig({ MXLAB_USERS_DIR: join(base, 'users'), MXLAB_MAIL_ROOT: root, MDA_NAME: 'beta-mda', MDA_HOSTNAME: 'lmtp.beta.test', MDA_DOMAINS: 'beta.test', MDA_LMTP_LISTEN: '127.0.0.1:0' }),
    );
    return mda;
  };
  const deliver = async (raw: string, to = ['bob@beta.test']) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mda?.lmtp[0]?.port, lmtp: true, ignoreTLS: true });
    try {
      return await transport.sendMail({ envelope: { from: 'alice@alpha.test', to }, raw });
    } finally {
      transport.close();
    }
  };
  const inbox = async (subject: string) => {
    const dir = join(root, 'beta.test', 'bob', 'new');
    const names = await readdir(dir).catch(() => [] as string[]);
    const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'latin1')));
    return texts.filter((text) => text.includes(`Subject: ${subject}\r\n`));
  };

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'mxlab-mda-resend-'));
    root = join(base, 'mail');
    await ensureLabUsers(join(base, 'users'), 'secret');
    await start();
  });
  after(async () => {
    await mda?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('answers the resend with the first reply and writes one file', async () => {
    const raw = `${fromMx1('019AB3C1F2E4A7F3C2C1')}Subject: once\r\n\r\nbody\r\n`;
    const first = await deliver(raw);
    const again = await deliver(raw);
    assert.deepEqual(again.accepted, ['bob@beta.test']);
    assert.equal(again.response, first.response);
    assert.equal((await inbox('once')).length, 1);
  });

  it('keeps recognising it after a restart', async () => {
    await mda?.close();
    await start();
    await deliver(`${fromMx1('019AB3C1F2E4A7F3C2C1')}Subject: once\r\n\r\nbody\r\n`);
    assert.equal((await inbox('once')).length, 1);
  });

  it('writes every copy of a message without a lab MTA trace id, as before', async () => {
    const raw = 'Subject: untraced\r\n\r\nbody\r\n';
    await deliver(raw);
    await deliver(raw);
    assert.equal((await inbox('untraced')).length, 2);
  });

  it('finishes at start a delivery a crash cut after its log entry, and answers its resend without a second copy', async () => {
    await mda?.close();
    // The state a kill -9 leaves between the log's fsync and the rename: the file in tmp/, the key logged.
    const maildir = join(root, 'beta.test', 'bob');
    const from = join(maildir, 'tmp', '1764748800.M1P1Q1.lmtp.beta.test');
    const to = join(maildir, 'new', '1764748800.M1P1Q1.lmtp.beta.test,S=40');
    await writeFile(from, 'Subject: cut\r\n\r\ninterrupted delivery\r\n');
    const key = 'mx1.beta.test 019AB3C1F2E4A7F3C2C2 bob@beta.test';
    const path = transactionLogPath(root, 'beta-mda');
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, `${JSON.stringify({ k: key, t: Date.now(), r: '<bob@beta.test> delivered to INBOX as X1', p: { from, to } })}\n`);
    await start();
    assert.equal((await inbox('cut')).length, 1, 'the interrupted delivery was finished at start');
    const again = await deliver(`${fromMx1('019AB3C1F2E4A7F3C2C2')}Subject: cut\r\n\r\ninterrupted delivery\r\n`);
    assert.match(again.response, /delivered to INBOX as X1/u);
    assert.equal((await inbox('cut')).length, 1);
  });

  it('delivers again when the log names a delivery whose file is nowhere (a write that failed after its log line)', async () => {
    await mda?.close();
    const maildir = join(root, 'beta.test', 'bob');
    const key = 'mx1.beta.test 019AB3C1F2E4A7F3C2C4 bob@beta.test';
    const path = transactionLogPath(root, 'beta-mda');
    const pending = { from: join(maildir, 'tmp', '1764748801.M2P1Q1.lmtp.beta.test'), to: join(maildir, 'new', '1764748801.M2P1Q1.lmtp.beta.test,S=40') };
    await appendFile(path, `${JSON.stringify({ k: key, t: Date.now(), r: '<bob@beta.test> delivered to INBOX as X2', p: pending })}\n`);
    await start();
    const info = await deliver(`${fromMx1('019AB3C1F2E4A7F3C2C4')}Subject: nowhere\r\n\r\nbody\r\n`);
    assert.deepEqual(info.accepted, ['bob@beta.test']);
    assert.equal((await inbox('nowhere')).length, 1, 'delivered, not lost');
  });

  it('counts recipients apart: a second recipient of the same MTA transaction is delivered', async () => {
    const raw = `${fromMx1('019AB3C1F2E4A7F3C2C3')}Subject: two\r\n\r\nbody\r\n`;
    await deliver(raw, ['bob@beta.test']);
    const info = await deliver(raw, ['bob@beta.test', 'carol@beta.test']);
    assert.deepEqual(info.accepted, ['bob@beta.test', 'carol@beta.test']);
    assert.equal((await inbox('two')).length, 1);
    const carol = await readdir(join(root, 'beta.test', 'carol', 'new'));
    assert.equal(carol.length, 1);
  });
});
