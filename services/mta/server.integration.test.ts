import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { readLabCa } from '../../shared/tls.ts';
import { startMta } from './server.ts';
import { ListenError } from './smtp/listener.ts';
import { createTestLab, RawSmtp, type TestLab } from './testing/smtp.ts';

/** A fake MDA: LMTP on port 0 that records each delivered message. */
async function fakeLmtp(): Promise<{ port: number; messages: { rcpt: string[]; text: string }[]; close(): Promise<void> }> {
  const messages: { rcpt: string[]; text: string }[] = [];
  const server = new SMTPServer({
    lmtp: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push({ rcpt: session.envelope.rcptTo.map((rcpt) => rcpt.address), text: Buffer.concat(chunks).toString('latin1') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  return check();
}

describe('startMta with the durable spool and the delivery runner', () => {
  let lab: TestLab;
  let lmtp: Awaited<ReturnType<typeof fakeLmtp>>;

  before(async () => {
    lab = await createTestLab();
    lmtp = await fakeLmtp();
  });

  after(async () => {
    await lmtp.close();
    await lab.remove();
  });

  it('queues a submitted message durably before 250 and delivers it to the MDA over LMTP', async () => {
    const config = lab.config({ MTA_SMTP_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '', MTA_LMTP: `127.0.0.1:${lmtp.port}`, MTA_DNS_SERVER: '127.0.0.1:9' });
    const mta = await startMta(config, { earlyTalkerWaitMs: 0 });
    try {
      assert.ok(mta.delivery, 'a Spool queue starts the delivery runner');
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: mta.submission[0]?.port ?? 0,
        requireTLS: true,
        auth: { user: 'alice@alpha.test', pass: 'secret' },
        tls: { ca: await readLabCa(lab.tlsDir), servername: 'localhost' },
      });
      const info = await transport.sendMail({ from: 'alice@alpha.test', to: 'alice@alpha.test', subject: 'note to self', text: 'kept' });
      const queueId = /queued as ([0-9A-F]+)$/u.exec(info.response)?.[1];
      assert.ok(queueId, info.response);
      assert.ok(await until(() => lmtp.messages.length === 1, 10_000), 'delivered over LMTP');
      const delivered = lmtp.messages[0];
      assert.deepEqual(delivered?.rcpt, ['alice@alpha.test']);
      assert.match(delivered?.text ?? '', new RegExp(`^Received: [^]*with ESMTPSA id ${queueId}\\r\\n`, 'u'));
      assert.match(delivered?.text ?? '', /\r\nSubject: note to self\r\n/u);
      assert.ok((await readdir(join(config.MTA_QUEUE_DIR))).includes('active'));
    } finally {
      await mta.close();
    }
  });

  it('serves the admin endpoint, whose chaos rules the SMTP listeners obey', async () => {
    const config = lab.config({ MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '', MTA_ADMIN_LISTEN: '127.0.0.1:0', MTA_LMTP: `127.0.0.1:${lmtp.port}`, MTA_DNS_SERVER: '127.0.0.1:9', MTA_QUEUE_DIR: join(lab.dir, 'admin-queue') });
    const mta = await startMta(config, { earlyTalkerWaitMs: 0 });
    try {
      assert.ok(mta.admin);
      const base = `http://127.0.0.1:${mta.admin.port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const set = await fetch(`${base}/chaos/rules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'grey', stage: 'rcpt', reply: { code: 451, enhanced: '4.7.1', text: 'Greylisted by the lab' }, durationSeconds: 60 }),
      });
      assert.equal(set.status, 201);
      const client = await RawSmtp.connect(mta.smtp[0]?.port ?? 0);
      await client.read();
      await client.command('EHLO sender.example');
      await client.command('MAIL FROM:<a@example.org>');
      assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).text, '451 4.7.1 Greylisted by the lab');
      assert.equal((await fetch(`${base}/chaos/rules/grey`, { method: 'DELETE' })).status, 200);
      assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).code, 250);
      client.close();
      const invalid = await fetch(`${base}/chaos/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stage: 'rcpt', reply: { code: 250 } }) });
      assert.equal(invalid.status, 400);
    } finally {
      await mta.close();
    }
  });

  it('names the listener and the address when a port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await assert.rejects(
        startMta(lab.config({ MTA_SMTP_LISTEN: '127.0.0.1:0', MTA_SUBMISSION_LISTEN: `127.0.0.1:${port}`, MTA_SUBMISSIONS_LISTEN: '' }), { queue: { enqueue: async () => ({ queueId: 'X' }) } }),
        (error: unknown) => {
          assert.ok(error instanceof ListenError);
          assert.equal(error.message, `MTA submission listener cannot listen on 127.0.0.1:${port}: address already in use`);
          return true;
        },
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('main.ts starts, stops with exit code 0 on SIGTERM, and exits 2 naming a taken port', async () => {
    const env = {
      ...process.env,
      MXLAB_USERS_DIR: lab.usersDir,
      MXLAB_TLS_DIR: lab.tlsDir,
      MTA_QUEUE_DIR: join(lab.dir, 'main-queue'),
      MTA_SMTP_LISTEN: '127.0.0.1:0',
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
      MTA_ADMIN_LISTEN: '',
      MTA_DNS_SERVER: '127.0.0.1:9',
      MTA_LMTP: '127.0.0.1:9',
      LOG_LEVEL: 'info',
    };
    const main = join(import.meta.dirname, 'main.ts');
    const run = (extra: Record<string, string>, onStarted?: (kill: () => void) => void) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [main], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (onStarted && stdout.includes('"MTA started"')) {
            const kill = onStarted;
            onStarted = undefined;
            kill(() => child.kill('SIGTERM'));
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    const stopped = await run({}, (kill) => kill());
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /"MTA stopped"/u);

    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const taken = await run({ MTA_SMTP_LISTEN: `127.0.0.1:${port}` });
      assert.equal(taken.code, 2);
      assert.match(taken.stderr, new RegExp(`MTA smtp listener cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`, 'u'));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
