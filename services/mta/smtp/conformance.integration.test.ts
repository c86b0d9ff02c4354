/**
 * SMTP conformance of the front end, reply line by reply line over raw sockets:
 * enhanced status codes on every reply (RFC 2034/3463), command sequencing (RFC 5321
 * §4.1.4), parameters (RFC 1870, 6152, 5321 §4.1.1.11), postmaster (§4.5.1), STARTTLS
 * (RFC 3207) and AUTH (RFC 4954) edge cases, and the error limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { runProcess, runPython } from '../../../shared/testing/processes.ts';
import { readLabCa } from '../../../shared/tls.ts';
import { startMta, type MtaHandle } from '../server.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { authPlain, createTestLab, MemoryQueue, RawSmtp, type TestLab } from '../testing/smtp.ts';

const ENHANCED = /^[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3} /u;
const DOUBLED = /^\d{3}[ -]\d\.\d{1,3}\.\d{1,3} \d\.\d{1,3}\.\d{1,3} /u;

function assertEnhanced(reply: { text: string; lines: string[] }): void {
  for (const line of reply.lines) {
    assert.match(line, ENHANCED, `no enhanced status code: ${reply.text}`);
    assert.doesNotMatch(line, DOUBLED, `doubled enhanced status code: ${reply.text}`);
  }
}

const MESSAGE = 'From: someone@example.org\r\nTo: alice@alpha.test\r\nSubject: hi\r\n\r\nhello\r\n';

describe('SMTP conformance', () => {
  let lab: TestLab;
  let mta: MtaHandle;
  let queue: MemoryQueue;
  let ca: string;
  let mx: number;
  let submission: number;
  let submissions: number;

  before(async () => {
    lab = await createTestLab();
    queue = new MemoryQueue();
    mta = await startMta(lab.config(), {
      queue,
      earlyTalkerWaitMs: 0,
      maxMessageBytes: 64 * 1024,
      throttle: new AuthThrottle({ failureDelayMs: 1, lockoutFailures: 1000 }),
    });
    ca = await readLabCa(lab.tlsDir);
    mx = mta.smtp[0]?.port ?? 0;
    submission = mta.submission[0]?.port ?? 0;
    submissions = mta.submissions[0]?.port ?? 0;
  });

  after(async () => {
    await mta.close();
    await lab.remove();
  });

  async function mxClient(ehlo = true): Promise<RawSmtp> {
    const client = await RawSmtp.connect(mx);
    assert.equal((await client.read()).code, 220);
    if (ehlo) assert.equal((await client.command('EHLO client.example')).code, 250);
    return client;
  }

  async function submissionClient(auth = true): Promise<RawSmtp> {
    const client = await RawSmtp.connect(submissions, { tls: { ca } });
    assert.equal((await client.read()).code, 220);
    assert.equal((await client.command('EHLO client.example')).code, 250);
    if (auth) assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`)).code, 235);
    return client;
  }

  it('advertises ENHANCEDSTATUSCODES, PIPELINING, 8BITMIME and SIZE; not DSN, SMTPUTF8 or REQUIRETLS it does not honour', async () => {
    const client = await mxClient(false);
    const ehlo = await client.command('EHLO client.example');
    const keywords = ehlo.lines.slice(1).map((line) => line.slice(4));
    for (const keyword of ['ENHANCEDSTATUSCODES', 'PIPELINING', '8BITMIME', 'STARTTLS', `SIZE ${64 * 1024}`]) assert.ok(keywords.includes(keyword), ehlo.text);
    for (const keyword of ['DSN', 'SMTPUTF8', 'REQUIRETLS']) assert.ok(!keywords.includes(keyword), ehlo.text);
    assert.equal((await client.startTls(ca)).text, '220 2.0.0 Ready to start TLS');
    const secure = await client.command('EHLO client.example');
    assert.ok(!secure.lines.some((line) => /REQUIRETLS|STARTTLS|DSN/u.test(line)), secure.text);
    client.close();
  });

  it('carries one enhanced status code on every reply of a whole session (MX)', async () => {
    const client = await mxClient();
    const replies = [
      await client.command('NOOP'),
      await client.command('HELP'),
      await client.command('VRFY alice@alpha.test'),
      await client.command('RSET'),
      await client.command('MAIL FROM:<someone@example.org>'),
      await client.command('MAIL FROM:<again@example.org>'),
      await client.command('RCPT TO:<alice@alpha.test>'),
      await client.command('RCPT TO:<nobody@alpha.test>'),
      await client.command('RCPT TO:<bob@beta.test>'),
      await client.command('RCPT TO:<not an address>'),
      await client.command('FOO bar'),
    ];
    for (const reply of replies) assertEnhanced(reply);
    assert.equal(replies[0]?.text, '250 2.0.0 OK');
    assert.equal(replies[1]?.code, 214);
    assert.equal(replies[2]?.code, 252);
    assert.equal(replies[4]?.text, '250 2.1.0 Accepted');
    assert.equal(replies[5]?.code, 503);
    assert.equal(replies[6]?.text, '250 2.1.5 Accepted');
    assert.equal(replies[10]?.text, '500 5.5.2 Error: command not recognized');
    assert.equal((await client.command('DATA')).text, '354 End data with <CR><LF>.<CR><LF>');
    const done = await client.command(`${MESSAGE}.`);
    assert.match(done.text, /^250 2\.0\.0 Ok: queued as \w+$/u);
    const quit = await client.command('QUIT');
    assert.equal(quit.text, '221 2.0.0 Bye');
    assert.ok(await client.closedByServer());
  });

  it('sequencing: 503 5.5.1 for MAIL/RCPT/DATA out of order, RSET in every state', async () => {
    const client = await mxClient(false);
    assert.equal((await client.command('MAIL FROM:<a@example.org>')).text, '503 5.5.1 Error: send HELO/EHLO first');
    assert.equal((await client.command('RSET')).text, '250 2.0.0 Flushed');
    await client.command('HELO client.example');
    assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).text, '503 5.5.1 Error: need MAIL command');
    assert.equal((await client.command('DATA')).text, '503 5.5.1 Error: need RCPT command');
    assert.equal((await client.command('MAIL FROM:<a@example.org>')).code, 250);
    assert.equal((await client.command('DATA')).text, '503 5.5.1 Error: need RCPT command');
    assert.equal((await client.command('RSET')).text, '250 2.0.0 Flushed');
    assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).code, 503, 'RSET ended the transaction');
    assert.equal((await client.command('RSET now')).text, '501 5.5.4 Syntax: RSET');
    await client.command('MAIL FROM:<a@example.org>');
    await client.command('RCPT TO:<alice@alpha.test>');
    assert.equal((await client.command('DATA now')).text, '501 5.5.4 Syntax: DATA');
    assert.equal((await client.command('NOOP with an argument')).text, '250 2.0.0 OK', 'NOOP takes a string (RFC 5321 §4.1.1.9)');
    assert.equal((await client.command('data')).code, 354, 'commands are case-insensitive');
    assert.equal((await client.command(`${MESSAGE}.`)).code, 250);
    client.close();
  });

  it('VRFY never tells a user from a non-user (252 2.0.0 both); EXPN is 502 5.5.1', async () => {
    const client = await mxClient();
    const known = await client.command('VRFY alice@alpha.test');
    const unknown = await client.command('VRFY nobody@alpha.test');
    assert.equal(known.code, 252);
    assert.match(known.text, /^252 2\.0\.0 /u);
    assert.equal(known.text, unknown.text);
    assert.equal((await client.command('EXPN staff')).text, '502 5.5.1 EXPN command is disabled');
    client.close();
  });

  it('sendmail debug commands are unknown commands (500 5.5.2), not jokes', async () => {
    const client = await mxClient();
    for (const command of ['LHLO client.example', 'WIZ secret', 'SHELL', 'KILL', 'XCLIENT ADDR=192.0.2.1', 'XFORWARD ADDR=192.0.2.1']) {
      assert.equal((await client.command(command)).text, '500 5.5.2 Error: command not recognized', command);
    }
    client.close();
  });

  it('MAIL/RCPT syntax errors: 501 5.1.7 and 501 5.1.3; unknown parameters 555 5.5.4', async () => {
    const client = await mxClient();
    assert.equal((await client.command('MAIL FROM:someone@example.org')).text, '501 5.1.7 Error: Bad sender address syntax');
    assert.equal((await client.command('MAIL FROM:<a@example.org> FOO=bar')).text, '555 5.5.4 Unsupported option: FOO=bar');
    assert.equal((await client.command('MAIL FROM:<a@example.org> SMTPUTF8')).text, '555 5.5.4 Unsupported option: SMTPUTF8');
    assert.equal((await client.command('MAIL FROM:<a@example.org> RET=HDRS')).text, '555 5.5.4 Unsupported option: RET=HDRS');
    assert.equal((await client.command('MAIL FROM:<a@example.org> REQUIRETLS')).text, '555 5.5.4 Unsupported option: REQUIRETLS');
    assert.equal((await client.command('MAIL FROM:<a@example.org> AUTH=<>')).text, '555 5.5.4 Unsupported option: AUTH=<>');
    assert.equal((await client.command('MAIL FROM:<a@example.org> BODY=8BITMIME SIZE=100')).text, '250 2.1.0 Accepted');
    assert.equal((await client.command('RCPT TO:alice@alpha.test')).text, '501 5.1.3 Error: Bad recipient address syntax');
    assert.equal((await client.command('RCPT TO:<alice@alpha.test> NOTIFY=NEVER')).text, '555 5.5.4 Unsupported option: NOTIFY=NEVER');
    assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).text, '250 2.1.5 Accepted');
    client.close();
  });

  it('SIZE: a declared size over the limit is 552 5.3.4 at MAIL; an oversized message is 552 5.3.4 after the dot, nothing queued', async () => {
    const client = await mxClient();
    assert.equal((await client.command(`MAIL FROM:<a@example.org> SIZE=${64 * 1024 + 1}`)).text, `552 5.3.4 Error: message exceeds fixed maximum message size ${64 * 1024}`);
    assert.equal((await client.command('MAIL FROM:<a@example.org> SIZE=abc')).code, 501);
    const count = queue.requests.length;
    await client.command('MAIL FROM:<a@example.org> SIZE=1000');
    await client.command('RCPT TO:<alice@alpha.test>');
    await client.command('DATA');
    const reply = await client.command(`Subject: big\r\n\r\n${`${'x'.repeat(98)}\r\n`.repeat(700)}.`);
    assert.equal(reply.text, '552 5.3.4 Message size exceeds fixed maximum message size');
    assert.equal(queue.requests.length, count);
    assert.equal((await client.command('NOOP')).code, 250, 'the session goes on');
    client.close();
  });

  it('accepts the null sender, source routes (ignored) and unqualified postmaster (RFC 5321 §4.5.1)', async () => {
    const client = await mxClient();
    assert.equal((await client.command('MAIL FROM:<>')).code, 250);
    assert.equal((await client.command('RCPT TO:<Postmaster>')).text, '250 2.1.5 Accepted');
    assert.equal((await client.command('RCPT TO:<@relay.example,@other.example:alice@alpha.test>')).text, '250 2.1.5 Accepted');
    assert.equal((await client.command('RCPT TO:<POSTMASTER@alpha.test>')).code, 250);
    await client.command('DATA');
    assert.equal((await client.command(`${MESSAGE}.`)).code, 250);
    const queued = queue.requests.at(-1);
    assert.equal(queued?.mailFrom, '');
    assert.deepEqual(queued?.rcptTo, ['postmaster@alpha.test', 'alice@alpha.test']);
    client.close();
  });

  it('DATA: dot-stuffing is undone (RFC 5321 §4.5.2)', async () => {
    const client = await mxClient();
    await client.command('MAIL FROM:<a@example.org>');
    await client.command('RCPT TO:<alice@alpha.test>');
    await client.command('DATA');
    const reply = await client.command('Subject: dots\r\n\r\n..leading dot\r\n...\r\n.');
    assert.equal(reply.code, 250, reply.text);
    assert.ok(queue.requests.at(-1)?.message.toString('latin1').endsWith('\r\n\r\n.leading dot\r\n..\r\n'));
    client.close();
  });

  it('STARTTLS: commands pipelined behind it in plaintext are discarded, and the session starts over (RFC 3207 §4.2, §6)', async () => {
    const client = await mxClient();
    client.write('MAIL FROM:<a@example.org>\r\n');
    assert.equal((await client.read()).code, 250);
    assert.equal((await client.startTls(ca, 'RSET\r\nNOOP\r\nMAIL FROM:<injected@example.org>\r\n')).code, 220);
    // Nothing of the injected commands is answered: the first reply is the one to our next command.
    assert.equal((await client.command('MAIL FROM:<b@example.org>')).text, '503 5.5.1 Error: send HELO/EHLO first');
    assert.equal((await client.command('EHLO client.example')).code, 250);
    assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).code, 503, 'the transaction before TLS is gone');
    assert.equal((await client.command('STARTTLS')).text, '503 5.5.1 Error: TLS already active');
    client.close();
  });

  it('submission 587: no AUTH before TLS (530 5.7.0), MAIL before AUTH 530 5.7.0, AUTH after TLS', async () => {
    const client = await RawSmtp.connect(submission);
    await client.read();
    const ehlo = await client.command('EHLO client.example');
    assert.ok(!ehlo.lines.some((line) => line.includes('AUTH')), ehlo.text);
    assert.ok(ehlo.lines.some((line) => line.endsWith('ENHANCEDSTATUSCODES')), ehlo.text);
    assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`)).text, '530 5.7.0 Must issue a STARTTLS command first');
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test>')).text, '530 5.7.0 Authentication required');
    await client.startTls(ca);
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test>')).text, '503 5.5.1 Error: send HELO/EHLO first');
    const secure = await client.command('EHLO client.example');
    assert.ok(secure.lines.some((line) => line.endsWith('AUTH PLAIN LOGIN')), secure.text);
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test>')).text, '530 5.7.0 Authentication required');
    assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`)).text, '235 2.7.0 Authentication successful');
    assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'secret')}`)).text, '503 5.5.1 Error: No identity changes permitted');
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test> AUTH=<>')).text, '250 2.1.0 Accepted', 'AUTH= is accepted where AUTH is offered (RFC 4954 §5)');
    client.close();
  });

  it('AUTH PLAIN/LOGIN edge cases: initial responses, =, *, bad base64, bad credentials, authzid', async () => {
    const client = await submissionClient(false);
    assert.equal((await client.command('AUTH PLAIN =')).text, '501 5.5.2 Error: invalid userdata');
    assert.equal((await client.command('AUTH PLAIN')).text, '334 ');
    assert.equal((await client.command('*')).text, '501 5.7.0 Authentication aborted');
    assert.equal((await client.command('AUTH PLAIN %%%notbase64%%%')).text, '501 5.5.2 Cannot decode response');
    assert.equal((await client.command('AUTH PLAIN')).code, 334);
    assert.equal((await client.command('')).text, '501 5.5.2 Error: invalid userdata', 'an empty line is an empty response, not garbage');
    assert.equal((await client.command('AUTH LOGIN')).text, '334 VXNlcm5hbWU6');
    assert.equal((await client.command(Buffer.from('alice@alpha.test').toString('base64'))).text, '334 UGFzc3dvcmQ6');
    assert.equal((await client.command('c2VjcmV0!!')).text, '501 5.5.2 Cannot decode response');
    assert.equal((await client.command('AUTH LOGIN')).code, 334);
    assert.equal((await client.command('*')).text, '501 5.7.0 Authentication aborted');
    assert.equal((await client.command('AUTH CRAM-MD5')).text, '504 5.5.4 Error: Unrecognized authentication type');
    assert.equal((await client.command(`AUTH PLAIN ${authPlain('alice@alpha.test', 'wrong')}`)).text, '535 5.7.8 Authentication credentials invalid');
    const otherAuthzid = Buffer.from('bob@beta.test\0alice@alpha.test\0secret').toString('base64');
    assert.equal((await client.command(`AUTH PLAIN ${otherAuthzid}`)).text, '535 5.7.8 Authentication credentials invalid');
    const sameAuthzid = Buffer.from('alice@alpha.test\0alice@alpha.test\0secret').toString('base64');
    assert.equal((await client.command(`AUTH PLAIN ${sameAuthzid}`)).text, '235 2.7.0 Authentication successful');
    client.close();
    const login = await submissionClient(false);
    assert.equal((await login.command(`AUTH LOGIN ${Buffer.from('alice@alpha.test').toString('base64')}`)).code, 334);
    assert.equal((await login.command(Buffer.from('secret').toString('base64'))).text, '235 2.7.0 Authentication successful');
    login.close();
  });

  it('too many errors: 421 4.7.0 and the connection is closed (Postfix smtpd_hard_error_limit)', async () => {
    const client = await mxClient();
    await client.command('MAIL FROM:<a@example.org>');
    let reply = await client.command('RCPT TO:<bob@beta.test>');
    let errors = 1;
    while (reply.code === 550 && errors < 50) {
      reply = await client.command('RCPT TO:<bob@beta.test>');
      errors += 1;
    }
    assert.equal(reply.text, '421 4.7.0 mx.alpha.test Error: too many errors');
    assert.equal(errors, 21);
    assert.ok(await client.closedByServer());
  });

  it('junk commands: NOOP/VRFY/RSET beyond 100 count as errors, then 421 4.7.0 (Postfix smtpd_junk_command_limit)', async () => {
    const client = await mxClient();
    let count = 0;
    let reply = await client.command('NOOP');
    while (reply.code === 250 && count < 500) {
      reply = await client.command(count % 2 === 0 ? 'RSET' : 'NOOP');
      count += 1;
    }
    assert.equal(reply.text, '421 4.7.0 mx.alpha.test Error: too many errors');
    assert.equal(count, 120);
    assert.ok(await client.closedByServer());
  });

  it('submission: too many commands without AUTH is 421 4.7.0', async () => {
    const client = await RawSmtp.connect(submission);
    await client.read();
    let reply = await client.command('EHLO client.example');
    let count = 1;
    while (reply.code !== 421 && count < 50) {
      reply = await client.command('NOOP');
      count += 1;
    }
    assert.equal(reply.text, '421 4.7.0 Error: too many unauthenticated commands');
    assert.ok(await client.closedByServer());
  });

  it('too many unknown commands: 421 4.7.0', async () => {
    const client = await mxClient();
    for (let index = 0; index < 9; index += 1) await client.command(`XYZZY${index}`);
    assert.equal((await client.command('XYZZY')).text, '421 4.7.0 Error: too many unrecognized commands');
    assert.ok(await client.closedByServer());
  });

  it('a command line over the limit gets 500 5.5.2 and the session goes on', async () => {
    const client = await mxClient();
    client.write(`NOOP ${'a'.repeat(5000)}\r\nNOOP\r\n`);
    assert.equal((await client.read()).text, '500 5.5.2 Error: command line too long');
    assert.equal((await client.read()).text, '250 2.0.0 OK');
    client.write(`NOOP ${'b'.repeat(3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.write(`${'c'.repeat(3000)}\r\nRSET\r\n`);
    assert.equal((await client.read()).text, '500 5.5.2 Error: command line too long');
    assert.equal((await client.read()).text, '250 2.0.0 Flushed');
    client.close();
  });

  it('an over-long AUTH response is 500 5.5.6 (RFC 4954 §4); message content sent right behind DATA is left alone', async () => {
    const client = await submissionClient(false);
    assert.equal((await client.command('AUTH PLAIN')).code, 334);
    assert.equal((await client.command('A'.repeat(4000))).text, '500 5.5.6 Authentication Exchange line is too long');
    assert.equal((await client.command('NOOP')).text, '250 2.0.0 OK');
    client.close();
    const mxc = await mxClient();
    const count = queue.requests.length;
    mxc.write(`MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@alpha.test>\r\nDATA\r\nSubject: long\r\n\r\n${'z'.repeat(3000)}\r\n.\r\n`);
    assert.equal((await mxc.read()).code, 250);
    assert.equal((await mxc.read()).code, 250);
    assert.equal((await mxc.read()).code, 354);
    assert.match((await mxc.read()).text, /^554 5\.6\.0 Message refused: line longer than 1000 octets/u);
    assert.equal(queue.requests.length, count);
    mxc.write(`MAIL FROM:<a@example.org>\r\nDATA\r\n${'z'.repeat(3000)}\r\nNOOP\r\n`);
    assert.equal((await mxc.read()).code, 250);
    assert.equal((await mxc.read()).text, '503 5.5.1 Error: need RCPT command');
    assert.equal((await mxc.read()).text, '500 5.5.2 Error: command line too long', 'after a refused DATA the rest are commands');
    assert.equal((await mxc.read()).text, '250 2.0.0 OK');
    mxc.close();
  });

  it('swaks: a bounce to unqualified postmaster over STARTTLS with PIPELINING, every reply with its enhanced code', async () => {
    const count = queue.requests.length;
    const result = await runProcess('swaks', [
      '--server', `127.0.0.1:${mx}`, '--helo', 'client.example', '--from', '<>', '--to', 'postmaster',
      '--tls', '--pipeline', '--header', 'Subject: swaks bounce', '--body', 'bounce body', '--timeout', '20',
    ]);
    const transcript = result.stdout.toString();
    assert.equal(result.code, 0, `${transcript}${result.stderr.toString()}`);
    assert.match(transcript, /<~ {1,2}250[- ]ENHANCEDSTATUSCODES/u);
    for (const line of transcript.split('\n').filter((text) => /^ *<[-~] +[245]\d\d /u.test(text) && !/ ESMTP |Nice to meet you|250 (?:SIZE|STARTTLS)/u.test(text))) {
      assert.match(line, /[245]\d\d [245]\.\d{1,3}\.\d{1,3} /u, line);
    }
    assert.equal(queue.requests.length, count + 1);
    assert.deepEqual(queue.requests.at(-1)?.rcptTo, ['postmaster@alpha.test']);
    assert.equal(queue.requests.at(-1)?.mailFrom, '');
  });

  it('nodemailer asked for DSN sends no NOTIFY/RET to an MX that does not offer DSN, and the mail goes through', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mx, secure: false, tls: { ca, servername: 'localhost' } });
    const info = await transport.sendMail({
      from: 'someone@example.org',
      to: 'alice@alpha.test',
      subject: 'dsn asked',
      text: 'hello',
      dsn: { id: 'env-1', return: 'headers', notify: ['failure', 'delay'], recipient: 'someone@example.org' },
    });
    assert.match(info.response, /^250 2\.0\.0 Ok: queued as \w+$/u);
    assert.deepEqual(queue.requests.at(-1)?.rcptTo, ['alice@alpha.test']);
  });

  it("Python's smtplib: sees ENHANCEDSTATUSCODES, gets 555 for SMTPUTF8 and 250 for BODY=8BITMIME", async () => {
    const script = [
      'import smtplib, sys',
      "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)",
      "s.ehlo('py.example')",
      "print(s.has_extn('enhancedstatuscodes'), s.has_extn('dsn'), s.has_extn('smtputf8'))",
      "print(*s.docmd('MAIL FROM:<someone@example.org> SMTPUTF8'))",
      "print(*s.mail('someone@example.org', ['BODY=8BITMIME']))",
      "print(*s.rcpt('alice@alpha.test'))",
      "print(*s.data(b'Subject: 8bit\\r\\n\\r\\ngr\\xc3\\xbc\\xc3\\x9fe'))",
      's.quit()',
    ].join('\n');
    const result = await runPython(script, [String(mx)]);
    assert.equal(result.code, 0, result.stderr.toString());
    const lines = result.stdout.toString().trim().split('\n');
    assert.equal(lines[0], 'True False False');
    assert.equal(lines[1], "555 b'5.5.4 Unsupported option: SMTPUTF8'");
    assert.equal(lines[2], "250 b'2.1.0 Accepted'");
    assert.equal(lines[3], "250 b'2.1.5 Accepted'");
    assert.match(lines[4] ?? '', /^250 b'2\.0\.0 Ok: queued as \w+'$/u);
    // smtplib ends the last line with CRLF itself (RFC 5321 §4.1.1.4); the body arrives 8-bit clean.
    assert.ok(queue.requests.at(-1)?.message.toString('latin1').endsWith(Buffer.from('\r\n\r\ngr\u00fc\u00dfe\r\n', 'utf8').toString('latin1')));
  });
});
