import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readLabCa } from '../../../shared/tls.ts';
import { startMta, type MtaHandle } from '../server.ts';
import { PregreetCache } from './pregreet.ts';
import { createTestLab, MemoryQueue, RawSmtp, type TestLab } from '../testing/smtp.ts';

/** Opens an MX session up to an accepted RCPT for alice@alpha.test. */
async function mxSession(port: number, rcpt = 'alice@alpha.test'): Promise<RawSmtp> {
  const client = await RawSmtp.connect(port);
  assert.equal((await client.read()).code, 220);
  assert.equal((await client.command('EHLO sender.example')).code, 250);
  assert.equal((await client.command('MAIL FROM:<someone@example.org>')).code, 250);
  const reply = await client.command(`RCPT TO:<${rcpt}>`);
  assert.equal(reply.code, 250, reply.text);
  return client;
}

/** swaks' transcript (it exits non-zero on a refusal, which is what these tests provoke). */
function runSwaks(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('swaks', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(output));
  });
}

const MESSAGE = 'From: someone@example.org\r\nTo: alice@alpha.test\r\nSubject: hi\r\nMessage-ID: <m1@example.org>\r\n\r\nhello\r\n';

describe('MX listener (port 25): relay policy, limits, smuggling', () => {
  let lab: TestLab;
  let mta: MtaHandle;
  let queue: MemoryQueue;
  let port: number;
  const pregreet = new PregreetCache({ waitMs: 150 });

  before(async () => {
    lab = await createTestLab();
    queue = new MemoryQueue();
    mta = await startMta(lab.config({ MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '' }), {
      queue,
      pregreet,
      maxMessageBytes: 64 * 1024,
    });
    port = mta.smtp[0]?.port ?? 0;
  });

  after(async () => {
    await mta.close();
    await lab.remove();
  });

  it('offers STARTTLS and SIZE but not AUTH, and refuses AUTH', async () => {
    const client = await RawSmtp.connect(port);
    const greeting = await client.read();
    assert.match(greeting.text, /^220 mx\.alpha\.test ESMTP/u);
    const ehlo = await client.command('EHLO sender.example');
    assert.ok(ehlo.lines.some((line) => /STARTTLS/u.test(line)));
    assert.ok(ehlo.lines.some((line) => line.includes(`SIZE ${64 * 1024}`)), ehlo.text);
    assert.ok(!ehlo.lines.some((line) => /AUTH/u.test(line)), ehlo.text);
    assert.equal((await client.command('AUTH PLAIN AGFsaWNlQGFscGhhLnRlc3QAc2VjcmV0')).code, 500);
    client.close();
  });

  it('accepts mail for a local user and answers 250 only after enqueue, with the queue id', async () => {
    const client = await mxSession(port);
    assert.equal((await client.command('DATA')).code, 354);
    const reply = await client.command(`${MESSAGE}.`);
    const queued = queue.requests.at(-1);
    assert.ok(queued);
    assert.equal(reply.text, `250 2.0.0 Ok: queued as ${queued.queueId}`);
    assert.equal(queued.source, 'mx');
    assert.equal(queued.mailFrom, 'someone@example.org');
    assert.deepEqual(queued.rcptTo, ['alice@alpha.test']);
    assert.equal(queued.messageId, '<m1@example.org>');
    assert.equal(queued.authUser, undefined);
    const text = queued.message.toString('latin1');
    assert.match(text, /^Received: from sender\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.alpha\.test \(mxlab alpha-mta\) with ESMTP id /u);
    assert.ok(text.endsWith(MESSAGE), 'the message follows the trace header unchanged');
    client.close();
  });

  it('records the TLS version and cipher after STARTTLS (ESMTPS)', async () => {
    const client = await RawSmtp.connect(port);
    await client.read();
    await client.command('EHLO sender.example');
    assert.equal((await client.startTls(await readLabCa(lab.tlsDir))).code, 220);
    await client.command('EHLO sender.example');
    await client.command('MAIL FROM:<>');
    await client.command('RCPT TO:<postmaster@alpha.test>');
    await client.command('DATA');
    assert.equal((await client.command(`${MESSAGE}.`)).code, 250);
    const queued = queue.requests.at(-1);
    assert.equal(queued?.mailFrom, '');
    assert.match(queued?.message.toString() ?? '', /\(using TLSv1\.[23] with cipher [\w-]+\)\r\n\tby mx\.alpha\.test \(mxlab alpha-mta\) with ESMTPS id/u);
    client.close();
  });

  it('is never an open relay: 550 5.7.1 for other domains, also with a local sender and tricks', async () => {
    const client = await RawSmtp.connect(port);
    await client.read();
    await client.command('EHLO mx.alpha.test');
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<bob@beta.test>')).text, '550 5.7.1 Relay access denied');
    assert.equal((await client.command('RCPT TO:<someone@example.org>')).text, '550 5.7.1 Relay access denied');
    assert.equal((await client.command('RCPT TO:<@alpha.test:bob@beta.test>')).code >= 500, true);
    for (const trick of ['bob%beta.test@alpha.test', '"bob@beta.test"@alpha.test', 'bob@beta.test@alpha.test', 'bob@beta.test.']) {
      const reply = await client.command(`RCPT TO:<${trick}>`);
      assert.ok(reply.code >= 500 && reply.code <= 559, `${trick}: ${reply.text}`);
    }
    assert.equal((await client.command('DATA')).code, 503);
    client.close();
  });

  it('refuses an unknown local user at RCPT with 550 5.1.1', async () => {
    const client = await RawSmtp.connect(port);
    await client.read();
    await client.command('EHLO sender.example');
    await client.command('MAIL FROM:<someone@example.org>');
    const reply = await client.command('RCPT TO:<nobody@alpha.test>');
    assert.equal(reply.text, '550 5.1.1 Recipient address rejected: User unknown in local recipient table');
    assert.equal((await client.command('RCPT TO:<../../etc@alpha.test>')).code, 501);
    client.close();
  });

  for (const [name, smuggled] of [
    ['<LF>.<LF>', 'hello\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<alice@alpha.test>\r\nDATA\r\nsmuggled\r\n'],
    ['<LF>.<CR><LF>', 'hello\n.\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<alice@alpha.test>\r\nDATA\r\nsmuggled\r\n'],
    ['<CR>.<CR>', 'hello\r.\rMAIL FROM:<evil@example.org>\r\n'],
    ['a bare LF in a line', 'one line\nand another\r\n'],
  ] as const) {
    it(`refuses SMTP smuggling with ${name} as 554 5.6.0, and runs no smuggled command`, async () => {
      const count = queue.requests.length;
      const client = await mxSession(port);
      assert.equal((await client.command('DATA')).code, 354);
      client.write(`Subject: smuggle\r\n\r\n${smuggled}.\r\n`);
      const reply = await client.read();
      assert.equal(reply.text, '554 5.6.0 Message refused: bare CR or LF in DATA (RFC 5321 section 2.3.8)');
      // The next reply must answer our next command, not a smuggled one.
      assert.equal((await client.command('NOOP')).code, 250);
      assert.equal(queue.requests.length, count, 'nothing was queued');
      client.close();
    });
  }

  it('refuses a message over the size limit with 552 5.3.4', async () => {
    const client = await mxSession(port);
    await client.command('DATA');
    const line = `${'x'.repeat(76)}\r\n`;
    const reply = await client.command(`Subject: big\r\n\r\n${line.repeat(1000)}.`);
    assert.equal(reply.text, '552 5.3.4 Message size exceeds fixed maximum message size');
    assert.equal((await client.command('MAIL FROM:<a@example.org> SIZE=999999999')).code, 552);
    client.close();
  });

  it('refuses a line over 1000 octets with 554 5.6.0', async () => {
    const client = await mxSession(port);
    await client.command('DATA');
    const reply = await client.command(`Subject: long\r\n\r\n${'y'.repeat(999)}\r\n.`);
    assert.match(reply.text, /^554 5\.6\.0 Message refused: line longer than 1000 octets/u);
    client.close();
  });

  it('drops a client after too many unknown commands (421)', async () => {
    const client = await RawSmtp.connect(port);
    await client.read();
    for (let index = 0; index < 9; index += 1) assert.equal((await client.command(`XYZZY${index}`)).code, 500);
    assert.equal((await client.command('XYZZY')).code, 421);
    assert.ok(await client.closedByServer());
  });

  it('skips a command line longer than the limit with 500 5.5.2, without running any of it', async () => {
    const client = await RawSmtp.connect(port);
    await client.read();
    client.write(`EHLO ${'a'.repeat(5000)}`);
    client.write(`${'b'.repeat(5000)} MAIL FROM:<a@example.org>\r\n`);
    assert.equal((await client.read()).text, '500 5.5.2 Error: command line too long');
    assert.equal((await client.command('MAIL FROM:<a@example.org>')).code, 503, 'no EHLO was taken from the long line');
    client.close();
  });

  it('answers 554 to a new client that talks before the greeting', async () => {
    const client = await RawSmtp.connect(port, { localAddress: '127.75.0.10' });
    client.write('EHLO impatient.example\r\n');
    const reply = await client.read();
    assert.equal(reply.text, '554 5.5.1 Protocol error: talking before the greeting');
    assert.ok(await client.closedByServer());
    // A bot stays a bot: its next connection is tested again.
    const again = await RawSmtp.connect(port, { localAddress: '127.75.0.10' });
    again.write('EHLO impatient.example\r\n');
    assert.equal((await again.read()).code, 554);
  });

  it('remembers an address that waited for the greeting (postscreen_greet_ttl)', async () => {
    assert.equal(pregreet.waitFor('127.75.0.11'), 150);
    const client = await RawSmtp.connect(port, { localAddress: '127.75.0.11' });
    assert.equal((await client.read()).code, 220);
    client.close();
    assert.equal(pregreet.waitFor('127.75.0.11'), 0);
    assert.equal(pregreet.waitFor('127.75.0.12'), 150);
  });

  it('answers 451 4.3.0 and never 250 when the queue cannot store the message', async () => {
    queue.failWith = new Error('disk full');
    try {
      const client = await mxSession(port);
      await client.command('DATA');
      const reply = await client.command(`${MESSAGE}.`);
      assert.equal(reply.text, '451 4.3.0 Temporary failure: message not queued, try again later');
      client.close();
    } finally {
      queue.failWith = undefined;
    }
  });

  it('refuses more than the allowed connections from one address with 421 4.7.0', async () => {
    const limited = await startMta(lab.config({ MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '' }), { queue, earlyTalkerWaitMs: 0, maxConnectionsPerIp: 2 });
    try {
      const limitedPort = limited.smtp[0]?.port ?? 0;
      const first = await RawSmtp.connect(limitedPort);
      const second = await RawSmtp.connect(limitedPort);
      assert.equal((await first.read()).code, 220);
      assert.equal((await second.read()).code, 220);
      const third = await RawSmtp.connect(limitedPort);
      assert.equal((await third.read()).text, '421 4.7.0 Too many connections from your address, try again later');
      assert.ok(await third.closedByServer());
      await first.command('QUIT');
      assert.ok(await first.closedByServer());
      const fourth = await RawSmtp.connect(limitedPort);
      assert.equal((await fourth.read()).code, 220);
      second.close();
      fourth.close();
    } finally {
      await limited.close();
    }
  });

  it('accepts a relay domain without checking users when configured (backup MX)', async () => {
    const relayQueue = new MemoryQueue();
    const backup = await startMta(
      lab.config({ MTA_NAME: 'beta-mx2', MTA_HOSTNAME: 'mx2.beta.test', MTA_LOCAL_DOMAINS: '', MTA_RELAY_DOMAINS: 'beta.test', MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '' }),
      { queue: relayQueue, earlyTalkerWaitMs: 0 },
    );
    try {
      const client = await RawSmtp.connect(backup.smtp[0]?.port ?? 0);
      await client.read();
      await client.command('EHLO mx.alpha.test');
      await client.command('MAIL FROM:<alice@alpha.test>');
      assert.equal((await client.command('RCPT TO:<anyone@beta.test>')).code, 250);
      assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).text, '550 5.7.1 Relay access denied');
      for (let index = 1; index < 100; index += 1) {
        assert.equal((await client.command(`RCPT TO:<user${index}@beta.test>`)).code, 250);
      }
      assert.equal((await client.command('RCPT TO:<user100@beta.test>')).text, '452 4.5.3 Too many recipients');
      await client.command('DATA');
      assert.equal((await client.command(`${MESSAGE}.`)).code, 250);
      assert.equal(relayQueue.requests[0]?.rcptTo.length, 100);
      assert.equal(relayQueue.requests[0]?.rcptTo[0], 'anyone@beta.test');
      assert.match(relayQueue.requests[0]?.message.toString() ?? '', /by mx2\.beta\.test \(mxlab beta-mx2\)/u);
      client.close();
    } finally {
      await backup.close();
    }
  });
  it('takes only known users of a relay domain with a recipient list, as relay_recipient_maps (issue 19, Low: backscatter)', async () => {
    const relayQueue = new MemoryQueue();
    const backup = await startMta(
      lab.config({
        MTA_NAME: 'beta-mx2', MTA_HOSTNAME: 'mx2.beta.test', MTA_LOCAL_DOMAINS: '', MTA_RELAY_DOMAINS: 'beta.test,delta.test',
        MTA_RELAY_RECIPIENTS: 'beta.test', MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '',
      }),
      { queue: relayQueue, earlyTalkerWaitMs: 0 },
    );
    try {
      const backupPort = backup.smtp[0]?.port ?? 0;
      const client = await RawSmtp.connect(backupPort);
      await client.read();
      await client.command('EHLO mx.alpha.test');
      await client.command('MAIL FROM:<forged@example.org>');
      assert.equal((await client.command('RCPT TO:<nobody@beta.test>')).text, '550 5.1.1 Recipient address rejected: User unknown in relay recipient table');
      assert.equal((await client.command('RCPT TO:<constructor@beta.test>')).code, 550);
      assert.equal((await client.command('RCPT TO:<bob@beta.test>')).code, 250);
      assert.equal((await client.command('RCPT TO:<Postmaster@beta.test>')).code, 250, 'an alias is a known recipient');
      assert.equal((await client.command('RCPT TO:<anyone@delta.test>')).code, 250, 'delta.test has no list here');
      assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).text, '550 5.7.1 Relay access denied');
      await client.command('DATA');
      assert.equal((await client.command(`${MESSAGE}.`)).code, 250);
      assert.deepEqual(relayQueue.requests[0]?.rcptTo, ['bob@beta.test', 'postmaster@beta.test', 'anyone@delta.test']);
      client.close();
      // The same refusal for a real client.
      const swaks = await runSwaks(['--server', `127.0.0.1:${backupPort}`, '--ehlo', 'mx.alpha.test', '--from', 'forged@example.org', '--to', 'nobody@beta.test', '--quit-after', 'RCPT']);
      assert.match(swaks, /<\*\* +550 5\.1\.1 Recipient address rejected: User unknown in relay recipient table/u);
      assert.equal(relayQueue.requests.length, 1, 'nothing queued for the unknown user');
    } finally {
      await backup.close();
    }
  });

  it('refuses a recipient list for a domain it does not relay, at start', () => {
    assert.throws(() => lab.config({ MTA_RELAY_DOMAINS: 'beta.test', MTA_RELAY_RECIPIENTS: 'gamma.test' }), /MTA_RELAY_RECIPIENTS.*gamma\.test is not one of MTA_RELAY_DOMAINS/su);
  });

  it('outlives a client that resets its connection in the middle of a transaction, in plain text and under TLS', async () => {
    const plain = await mxSession(port);
    plain.reset();
    const tls = await RawSmtp.connect(port);
    assert.equal((await tls.read()).code, 220);
    assert.equal((await tls.command('EHLO sender.example')).code, 250);
    assert.equal((await tls.startTls(await readLabCa(lab.tlsDir))).code, 220);
    assert.equal((await tls.command('EHLO sender.example')).code, 250);
    assert.equal((await tls.command('MAIL FROM:<someone@example.org>')).code, 250);
    assert.equal((await tls.command('RCPT TO:<alice@alpha.test>')).code, 250);
    tls.reset();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await mxSession(port);
    assert.equal((await next.command('QUIT')).code, 221);
    next.close();
  });
});

describe('MX pregreet test: a passed address is greeted at once, a new one waits', () => {
  let lab: TestLab;
  let mta: MtaHandle;
  let port: number;
  // A wait far beyond RawSmtp's reply timeout: a greeting that arrives at all was not delayed.
  const pregreet = new PregreetCache({ waitMs: 60_000 });

  before(async () => {
    lab = await createTestLab();
    mta = await startMta(lab.config({ MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '' }), { queue: new MemoryQueue(), pregreet });
    port = mta.smtp[0]?.port ?? 0;
  });

  after(async () => {
    await mta.close();
    await lab.remove();
  });

  it('greets a remembered address without the wait, and keeps a new one waiting', async () => {
    const stranger = await RawSmtp.connect(port, { localAddress: '127.75.0.14' });
    pregreet.pass('127.75.0.13');
    const known = await RawSmtp.connect(port, { localAddress: '127.75.0.13' });
    assert.match((await known.read()).text, /^220 /u);
    assert.equal((await known.command('EHLO sender.example')).code, 250);
    known.close();
    assert.equal(stranger.unread(), '', 'the new address, connected first, is still waiting');
    stranger.close();
  });
});
