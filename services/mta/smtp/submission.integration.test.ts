import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runPython as runProcessPython } from '../../../shared/testing/processes.ts';
import nodemailer from 'nodemailer';
import { readLabCa } from '../../../shared/tls.ts';
import { startMta, type MtaHandle } from '../server.ts';
import { AuthPenalty } from '../../../shared/auth-penalty.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { authPlain, createTestLab, MemoryQueue, RawSmtp, type TestLab } from '../testing/smtp.ts';

async function runPython(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runProcessPython(script, args);
  return { ...result, stdout: result.stdout.toString() };
}

/** A penalty of short steps that records each delay: what the tests check instead of clocks. */
function recordingPenalty() {
  const delays: number[] = [];
  const penalty = new AuthPenalty({ initMs: 20, maxMs: 80, sleep: async (ms) => void delays.push(ms) });
  return { penalty, taken: () => delays.splice(0) };
}

describe('submission listeners (587 STARTTLS, 465 implicit TLS)', () => {
  const { penalty, taken } = recordingPenalty();
  let lab: TestLab;
  let mta: MtaHandle;
  let queue: MemoryQueue;
  let ca: string;
  let port587: number;
  let port465: number;

  before(async () => {
    lab = await createTestLab();
    queue = new MemoryQueue();
    mta = await startMta(lab.config({ MTA_SMTP_LISTEN: '' }), {
      queue,
      // Beyond RawSmtp's reply timeout: a submission greeting that arrives was not delayed.
      earlyTalkerWaitMs: 60_000,
      throttle: new AuthThrottle({ failureDelayMs: 10, lockoutFailures: 1000 }),
      penalty,
    });
    ca = await readLabCa(lab.tlsDir);
    port587 = mta.submission[0]?.port ?? 0;
    port465 = mta.submissions[0]?.port ?? 0;
  });

  after(async () => {
    await mta.close();
    await lab.remove();
  });

  const transport = (port: number, secure: boolean, pass = 'secret') =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure,
      requireTLS: !secure,
      auth: { user: 'alice@alpha.test', pass },
      tls: { ca, servername: 'localhost' },
    });

  it('nodemailer submits as alice over STARTTLS; queued with Received (ESMTPSA, TLS), Message-ID and Date', async () => {
    const before = queue.requests.length;
    const info = await transport(port587, false).sendMail({
      from: 'alice@alpha.test',
      to: 'bob@beta.test',
      subject: 'hello bob',
      text: 'Hi Bob,\nfrom the lab.\n',
    });
    assert.match(info.response, /^250 2\.0\.0 Ok: queued as [0-9A-F]{20}$/u);
    const queued = queue.requests[before];
    assert.ok(queued);
    assert.equal(info.response, `250 2.0.0 Ok: queued as ${queued.queueId}`);
    assert.equal(queued.mailFrom, 'alice@alpha.test');
    assert.deepEqual(queued.rcptTo, ['bob@beta.test']);
    assert.equal(queued.source, 'submission');
    assert.equal(queued.authUser, 'alice@alpha.test');
    const text = queued.message.toString('utf8');
    assert.match(text, /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.[23] with cipher \S+\)\r\n\t\(authenticated sender: alice@alpha\.test\)\r\n\tby mx\.alpha\.test \(mxlab alpha-mta\) with ESMTPSA id [0-9A-F]{20}\r\n\tfor <bob@beta\.test>; /u);
    assert.ok(text.includes(`id ${queued.queueId}`));
    assert.match(text, /\r\nSubject: hello bob\r\n/u);
    assert.ok(queued.messageId && text.includes(`Message-ID: ${queued.messageId}`));
    assert.doesNotMatch(text, /(?<!\r)\n/u, 'only CRLF line ends');
  });

  it('runs no pregreet test on submission: greeted at once although the MX wait is 60 s', async () => {
    const client = await RawSmtp.connect(port587);
    assert.match((await client.read()).text, /^220 /u);
    client.close();
  });

  it('adds Message-ID and Date when the client leaves them out (raw client)', async () => {
    const client = await RawSmtp.connect(port465, { tls: { ca } });
    assert.equal((await client.read()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`)).code, 235);
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<carol@beta.test>')).code, 250);
    assert.equal((await client.command('DATA')).code, 354);
    const reply = await client.command('Subject: bare\r\n\r\nno id, no date\r\n.');
    assert.equal(reply.code, 250, reply.text);
    const queued = queue.requests.at(-1);
    assert.ok(queued);
    const text = queued.message.toString('latin1');
    assert.match(text, /\r\nMessage-ID: <[^>]+@mx\.alpha\.test>\r\n/u);
    assert.match(text, /\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/u);
    assert.match(text, /\r\n\r\nno id, no date\r\n$/u);
    assert.equal(queued.messageId, /Message-ID: (<[^>]+>)/u.exec(text)?.[1]);
    await client.command('QUIT');
    client.close();
  });

  it('nodemailer submits over implicit TLS (465)', async () => {
    const info = await transport(port465, true).sendMail({ from: 'alice@alpha.test', to: 'carol@beta.test', subject: 's', text: 'x' });
    assert.match(info.response, /^250 2\.0\.0 Ok: queued as /u);
    assert.match(queue.requests.at(-1)?.message.toString() ?? '', /with ESMTPSA id/u);
  });

  it("Python's smtplib submits with STARTTLS and AUTH", async () => {
    const script = [
      'import smtplib, ssl, sys',
      'ctx = ssl.create_default_context(cafile=sys.argv[2])',
      "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)",
      "s.ehlo('py.test')",
      's.starttls(context=ctx)',
      "s.ehlo('py.test')",
      "s.login('alice@alpha.test', 'secret')",
      "msg = 'From: alice@alpha.test\\r\\nTo: bob@beta.test\\r\\nSubject: from python\\r\\n\\r\\nhello\\r\\n'",
      "print(s.sendmail('alice@alpha.test', ['bob@beta.test'], msg) == {})",
      's.quit()',
    ].join('\n');
    const caFile = `${lab.tlsDir}/ca.crt`;
    const result = await runPython(script, [String(port587), caFile]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n')[0], 'True');
    assert.match(queue.requests.at(-1)?.message.toString() ?? '', /Subject: from python/u);
  });

  it('refuses a bad password with 535 5.7.8', async () => {
    await assert.rejects(
      transport(port587, false, 'wrong').sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', text: 'x' }),
      (error: { responseCode?: number; response?: string }) => {
        assert.equal(error.responseCode, 535);
        assert.match(error.response ?? '', /^535 5\.7\.8 Authentication credentials invalid/u);
        return true;
      },
    );
  });

  it('does not offer AUTH before TLS and refuses it with 530 5.7.0; offers it after STARTTLS', async () => {
    const client = await RawSmtp.connect(port587);
    assert.equal((await client.read()).code, 220);
    const ehlo = await client.command('EHLO client.test');
    assert.equal(ehlo.code, 250);
    assert.ok(ehlo.lines.some((line) => /STARTTLS/u.test(line)));
    assert.ok(!ehlo.lines.some((line) => /AUTH/u.test(line)), ehlo.text);
    assert.ok(ehlo.lines.some((line) => /SIZE \d+/u.test(line)));
    const auth = await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`);
    assert.equal(auth.text, '530 5.7.0 Must issue a STARTTLS command first');
    const mail = await client.command('MAIL FROM:<alice@alpha.test>');
    assert.equal(mail.text, '530 5.7.0 Authentication required');
    assert.equal((await client.startTls(ca)).code, 220);
    const secureEhlo = await client.command('EHLO client.test');
    assert.ok(secureEhlo.lines.some((line) => /AUTH PLAIN LOGIN/u.test(line)), secureEhlo.text);
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test>')).text, '530 5.7.0 Authentication required');
    client.close();
  });

  it('refuses a sender the user does not own with 553 5.7.1, accepts its alias', async () => {
    const client = await RawSmtp.connect(port465, { tls: { ca } });
    await client.read();
    await client.command('EHLO client.test');
    assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`)).code, 235);
    assert.equal((await client.command('MAIL FROM:<bob@beta.test>')).text, '553 5.7.1 Sender address rejected: not owned by user');
    assert.equal((await client.command('MAIL FROM:<>')).code, 553);
    assert.equal((await client.command('MAIL FROM:<postmaster@alpha.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<nobody@alpha.test>')).text.slice(0, 9), '550 5.1.1');
    assert.equal((await client.command('RCPT TO:<anyone@example.org>')).code, 250);
    client.close();
  });

  it('refuses a From or Sender header the user does not own with 550 5.7.1 and queues nothing; accepts an alias', async () => {
    const before = queue.requests.length;
    const send = (headers: { from: string; sender?: string }) =>
      transport(port587, false).sendMail({ envelope: { from: 'alice@alpha.test', to: 'bob@beta.test' }, to: 'bob@beta.test', subject: 'who wrote this', text: 'x', ...headers });
    await assert.rejects(send({ from: 'Carol <carol@beta.test>' }), (error: { responseCode?: number; response?: string }) => {
      assert.equal(error.responseCode, 550);
      assert.equal(error.response, '550 5.7.1 From/Sender header address not owned by user (carol@beta.test)');
      return true;
    });
    await assert.rejects(send({ from: 'alice@alpha.test', sender: 'bob@beta.test' }), /550 5\.7\.1 From\/Sender header/u);
    await assert.rejects(send({ from: '"alice@alpha.test" <carol@beta.test>, alice@alpha.test' }), /550 5\.7\.1/u);
    assert.equal(queue.requests.length, before);
    const info = await send({ from: 'The Postmaster <postmaster@alpha.test>', sender: 'alice@alpha.test' });
    assert.match(info.response, /^250 /u);
    assert.equal(queue.requests.length, before + 1);
  });

  it('counts parallel AUTH guesses on separate connections before checking them (auth penalty)', async () => {
    taken();
    const guess = async (i: number) => {
      const client = await RawSmtp.connect(port465, { tls: { ca } });
      try {
        await client.read();
        await client.command('EHLO client.test');
        return (await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', `guess${i}`)}`)).code;
      } finally {
        client.close();
      }
    };
    assert.deepEqual(await Promise.all([0, 1, 2, 3].map(guess)), [535, 535, 535, 535]);
    assert.deepEqual(taken().sort((a, b) => a - b), [20, 40, 80], 'every guess but the first waited, longer and longer');
    const info = await transport(port465, true).sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'after the guesses', text: 'x' });
    assert.match(info.response, /^250 /u);
    assert.deepEqual(taken(), [80], 'the right password waits too, then clears the address');
  });

  it('refuses the 101st recipient with 452 4.5.3', async () => {
    const client = await RawSmtp.connect(port465, { tls: { ca } });
    await client.read();
    await client.command('EHLO client.test');
    await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`);
    await client.command('MAIL FROM:<alice@alpha.test>');
    for (let index = 0; index < 100; index += 1) {
      const reply = await client.command(`RCPT TO:<user${index}@example.org>`);
      assert.equal(reply.code, 250, reply.text);
    }
    assert.equal((await client.command('RCPT TO:<user100@example.org>')).text, '452 4.5.3 Too many recipients');
    client.close();
  });
});

describe('AUTH lockout', () => {
  it('slows failures down and then answers 454 4.7.0 even to the right password', async () => {
    const lab = await createTestLab();
    const mta = await startMta(lab.config({ MTA_SMTP_LISTEN: '', MTA_SUBMISSION_LISTEN: '' }), {
      queue: new MemoryQueue(),
      throttle: new AuthThrottle({ failureDelayMs: 150, lockoutFailures: 3, lockoutMs: 60_000 }),
      penalty: recordingPenalty().penalty,
    });
    try {
      const ca = await readLabCa(lab.tlsDir);
      const client = await RawSmtp.connect(mta.submissions[0]?.port ?? 0, { tls: { ca } });
      await client.read();
      await client.command('EHLO client.test');
      const timings: number[] = [];
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const started = Date.now();
        const reply = await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'guess')}`);
        timings.push(Date.now() - started);
        assert.equal(reply.code, 535, reply.text);
      }
      assert.ok(timings[1]! >= 290, `second failure waited ${timings[1]} ms`);
      assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'guess')}`)).code, 535);
      const locked = await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`);
      assert.equal(locked.text, '454 4.7.0 Too many failed authentications, try again later');
      client.close();
    } finally {
      await mta.close();
      await lab.remove();
    }
  });
});
