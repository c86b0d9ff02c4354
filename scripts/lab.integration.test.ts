/**
 * The Foundation's "done when", automated: `npm start` brings the whole chain up; swaks
 * submits as alice to bob through alpha-mta; curl reads it over POP3 from beta-mra with a
 * Received header from each MTA hop. The lab under test runs on its own loopback network
 * (127.29.x) and free host ports, so it does not collide with a lab already running.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { runProcess, runPython } from '../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from './lab-process.ts';

async function run(command: string, args: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runProcess(command, args, { timeoutMs, ...(env ? { env } : {}) });
  return { ...result, stdout: result.stdout.toString() };
}

/** Reads message `subject` from a POP3 maildrop with Python's poplib (a real client). */
async function popWithPython(port: string, user: string, subject: string): Promise<Buffer | undefined> {
  const script = `
import poplib, sys
pop = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=10)
pop.user(sys.argv[2]); pop.pass_('secret')
count, _ = pop.stat()
for n in range(1, count + 1):
    lines = pop.retr(n)[1]
    raw = b'\\r\\n'.join(lines) + b'\\r\\n'
    if sys.argv[3].encode() in raw:
        sys.stdout.buffer.write(raw)
        break
pop.quit()
`;
  const result = await runPython(script, [port, user, subject], 20_000);
  return result.code !== 0 || result.stdout.length === 0 ? undefined : result.stdout;
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('npm start (no-Docker lab)', () => {
  let lab: LabProcess;
  let env: NodeJS.ProcessEnv = {};
  let ca = '';
  let output = '';

  before(async () => {
    lab = await startLabProcess({ loopbackNet: '127.29' });
    ({ env, ca } = lab);
    output = lab.output();
  });

  after(async () => {
    await lab?.stop();
  });

  it('prints the endpoints and the lab users', () => {
    assert.match(output, new RegExp(`${env.MXLAB_ALPHA_SUBMISSION_PORT}\\s+alpha submission`));
    assert.match(output, /alice@alpha\.test/);
    assert.match(output, /bob@beta\.test, carol@beta\.test/);
  });

  it('answers MX queries like CoreDNS', async () => {
    const dig = await run('dig', ['+short', '@127.0.0.1', '-p', String(env.MXLAB_DNS_PORT), 'beta.test', 'MX']);
    assert.equal(dig.code, 0, dig.stderr);
    assert.deepEqual(dig.stdout.trim().split('\n').sort(), ['10 mx1.beta.test.', '20 mx2.beta.test.']);
  });

  it('carries swaks mail from alice to bob, readable with curl over POP3', async () => {
    const subject = `lab test ${Date.now()}`;
    const swaks = await run('swaks', [
      '--server', `127.0.0.1:${env.MXLAB_ALPHA_SUBMISSION_PORT}`, '--tls',
      '--auth-user', 'alice@alpha.test', '--auth-password', 'secret',
      '--from', 'alice@alpha.test', '--to', 'bob@beta.test', '--header', `Subject: ${subject}`,
    ]);
    assert.equal(swaks.code, 0, swaks.stdout + swaks.stderr);
    assert.match(swaks.stdout, /<~\s+250 /);

    const message = await until('the message in bob\'s maildrop', async () => {
      for (let n = 1; n <= 20; n += 1) {
        const curl = await run('curl', ['-s', `pop3://127.0.0.1:${env.MXLAB_BETA_POP3_PORT}/${n}`, '--user', 'bob@beta.test:secret']);
        if (curl.code !== 0) return undefined;
        if (curl.stdout.includes(subject)) return curl.stdout;
      }
      return undefined;
    }, 60_000);
    assert.match(message, /Received: from [^\r\n]+\r?\n(\t[^\r\n]*\r?\n)*\tby mx\.alpha\.test /);
    assert.match(message, /Received: from [^\r\n]+\r?\n(\t[^\r\n]*\r?\n)*\tby mx1\.beta\.test /);
    assert.match(message, /^Delivered-To: bob@beta\.test/m);
    // alpha-mta connects from its own address, so beta-mx1 sees it, and SPF (`mx -all`) passes.
    assert.match(message, /Received: from mx\.alpha\.test \(\[127\.29\.0\.10\]\)/);
    assert.doesNotMatch(message, /SPF_FAIL/);
    assert.match(message, /^Return-Path: <alice@alpha\.test>/m);
  });

  it('delivers nodemailer\'s message byte-exact to POP3 (poplib) and IMAP (imapflow)', async () => {
    const subject = `byte exact ${Date.now()}`;
    const raw = Buffer.from(
      [
        'From: Alice <alice@alpha.test>',
        'To: Bob <bob@beta.test>',
        `Subject: ${subject}`,
        'Date: Mon, 23 Nov 2026 16:00:00 +0000',
        `Message-ID: <${Date.now()}.exact@alpha.test>`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        'Grüße aus alpha.',
        '.leading dot survives dot-stuffing',
        '',
      ].join('\r\n'),
    );
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: Number(env.MXLAB_ALPHA_SUBMISSION_PORT),
      secure: false,
      requireTLS: true,
      tls: { ca, servername: 'smtp.alpha.test' },
      auth: { user: 'alice@alpha.test', pass: 'secret' },
    });
    const info = await transport.sendMail({ envelope: { from: 'alice@alpha.test', to: ['bob@beta.test'] }, raw });
    assert.match(info.response, /^250 /);

    const popped = await until('the message over POP3', () => popWithPython(String(env.MXLAB_BETA_POP3_PORT), 'bob@beta.test', subject), 60_000);
    assert.ok(popped.subarray(popped.length - raw.length).equals(raw), 'POP3 returns the submitted bytes after the trace headers');

    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: Number(env.MXLAB_BETA_IMAP_PORT),
      secure: false,
      auth: { user: 'bob@beta.test', pass: 'secret' },
      tls: { ca, servername: 'imap.beta.test' },
      logger: false,
    });
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock('INBOX');
      try {
        const uids = (await imap.search({ subject }, { uid: true })) || [];
        assert.equal(uids.length, 1);
        const message = await imap.fetchOne(String(uids[0]), { source: true, envelope: true }, { uid: true });
        assert.ok(message && message.source);
        assert.ok(message.source.subarray(message.source.length - raw.length).equals(raw), 'IMAP returns the same bytes');
        assert.equal(message.envelope?.subject, subject);
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }
  });

  it('refuses a bad password (535), relaying (550 5.7.1), unknown users (550 5.1.1) and path tricks', async () => {
    const submit = nodemailer.createTransport({
      host: '127.0.0.1', port: Number(env.MXLAB_ALPHA_SUBMISSION_PORT), requireTLS: true,
      tls: { ca, servername: 'smtp.alpha.test' }, auth: { user: 'alice@alpha.test', pass: 'wrong' },
    });
    await assert.rejects(submit.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', text: 'x' }), (error: { responseCode?: number }) => error.responseCode === 535);

    const refusedAt = async (port: string | undefined, from: string, to: string): Promise<string> => {
      const mx = nodemailer.createTransport({ host: '127.0.0.1', port: Number(port), ignoreTLS: true });
      try {
        await mx.sendMail({ envelope: { from, to: [to] }, raw: 'Subject: x\r\n\r\nx\r\n' });
      } catch (error) {
        return String((error as { response?: string }).response);
      }
      return 'accepted';
    };
    for (const port of [env.MXLAB_ALPHA_MX_PORT, env.MXLAB_BETA_MX1_PORT, env.MXLAB_BETA_MX2_PORT]) {
      assert.match(await refusedAt(port, 'spammer@example.com', 'victim@example.com'), /^550 5\.7\.1/);
    }
    assert.match(await refusedAt(env.MXLAB_ALPHA_MX_PORT, 'someone@beta.test', 'bob@beta.test'), /^550 5\.7\.1/);
    assert.match(await refusedAt(env.MXLAB_BETA_MX1_PORT, 'alice@alpha.test', 'nobody@beta.test'), /^550 5\.1\.1/);
    assert.match(await refusedAt(env.MXLAB_BETA_MX1_PORT, 'alice@alpha.test', '"../../etc/passwd"@beta.test'), /^5\d\d /);
  });

  it('keeps mail on the backup MX while beta-mx1 is down and delivers it once when it is back', async () => {
    const labctl = (...args: string[]) => run(process.execPath, [join(import.meta.dirname, 'labctl.ts'), ...args], 60_000, env);
    const mx2Queue = async () =>
      ((await (await fetch('http://127.29.0.21:8026/queue')).json()) as { messages: { messageId?: string; recipients: { recipient: string }[] }[] }).messages;
    const stopped = await labctl('stop', 'beta-mx1');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match((await labctl('status')).stdout, /beta-mx1\s+127\.29\.0\.20\s+stopped/);

    const subject = `backup mx ${Date.now()}`;
    const messageId = `<${Date.now()}.backup@alpha.test>`;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: Number(env.MXLAB_ALPHA_SUBMISSION_PORT), requireTLS: true,
      tls: { ca, servername: 'smtp.alpha.test' }, auth: { user: 'alice@alpha.test', pass: 'secret' },
    });
    await transport.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'primary MX is down', messageId });
    const queued = await until('the message in beta-mx2\'s queue', async () => {
      const messages = await mx2Queue();
      return messages.find((message) => message.messageId === messageId);
    }, 60_000);
    assert.deepEqual(queued.recipients.map((state) => state.recipient), ['bob@beta.test']);

    const started = await labctl('start', 'beta-mx1');
    assert.equal(started.code, 0, started.stderr);
    await fetch('http://127.29.0.21:8026/queue/flush', { method: 'POST' });
    await until('beta-mx2 to hand the message over', async () => ((await mx2Queue()).length === 0 ? true : undefined), 60_000);
    const copies = async () => {
      const imap = new ImapFlow({
        host: '127.0.0.1', port: Number(env.MXLAB_BETA_IMAP_PORT), secure: false,
        auth: { user: 'bob@beta.test', pass: 'secret' }, tls: { ca, servername: 'imap.beta.test' }, logger: false,
      });
      await imap.connect();
      try {
        await imap.mailboxOpen('INBOX', { readOnly: true });
        return ((await imap.search({ header: { 'message-id': messageId } }, { uid: true })) || []).length;
      } finally {
        await imap.logout();
      }
    };
    await until('the message in bob\'s INBOX', async () => ((await copies()) > 0 ? true : undefined), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(await copies(), 1, 'delivered exactly once');
  });
});
