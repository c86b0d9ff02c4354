import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { ImapFlow } from 'imapflow';
import { connect } from 'node:net';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';
import { MAX_LITERAL_BYTES } from './reader.ts';
import { MAX_BAD_COMMANDS } from './limits.ts';

describe('IMAP abuse and refusals over raw sockets', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.close();
  });

  it('answers bad syntax, unknown commands and wrong states with BAD and a reason', async () => {
    const imap = await RawImap.open(lab.imapPort);
    assert.match(await imap.command('a1', 'LOGIN "unterminated'), /^a1 BAD Syntax error: unterminated quoted string/mu);
    assert.match(await imap.command('a2', 'FROB'), /^a2 BAD Unknown command FROB/mu);
    assert.match(await imap.command('a3', 'SELECT INBOX'), /^a3 BAD SELECT: log in first/mu);
    assert.match(await imap.command('a4', 'LOGIN onlyone'), /^a4 BAD LOGIN: missing arguments/mu);
    imap.write('\r\n');
    assert.match(await imap.until(/^\* BAD .*\r\n/mu), /missing or invalid tag/u);
    assert.match(await imap.command('a5', 'CAPABILITY'), /^\* CAPABILITY IMAP4rev1 .*STARTTLS.*AUTH=PLAIN/mu);
    assert.match(await imap.command('a6', 'LOGOUT'), /^\* BYE/mu);
    await imap.waitClosed();
  });

  it('says BYE after too many bad commands', async () => {
    const imap = await RawImap.open(lab.imapPort);
    for (let i = 1; i < MAX_BAD_COMMANDS; i += 1) assert.match(await imap.command(`b${i}`, 'NOPE'), /BAD/u);
    imap.write('bx NOPE\r\n');
    assert.match(await imap.until(/^\* BYE Too many invalid commands/mu), /bx BAD/u);
    await imap.waitClosed();
  });

  it('refuses an oversized literal clearly and stays usable', async () => {
    const imap = await RawImap.open(lab.imapPort);
    await imap.command('c1', 'LOGIN bob@beta.test secret');
    imap.write(`c2 APPEND INBOX {${MAX_LITERAL_BYTES + 1}}\r\n`);
    assert.match(await imap.until(/^c2 NO/mu), /^c2 NO \[TOOBIG\] Literal of \d+ octets is over the limit/mu);
    assert.match(await imap.command('c3', 'NOOP'), /^c3 OK/mu);
    imap.write(`c4 APPEND INBOX {${MAX_LITERAL_BYTES + 1}+}\r\n`);
    assert.match(await imap.until(/^\* BYE/mu), /^c4 BAD \[TOOBIG\]/mu);
    await imap.waitClosed();
  });

  it('refuses mailbox names that reach outside the Maildir', async () => {
    const imap = await RawImap.open(lab.imapPort);
    await imap.command('d1', 'LOGIN bob@beta.test secret');
    const root = join(lab.config.MXLAB_MAIL_ROOT, 'beta.test');
    for (const [i, name] of ['"../../alpha.test/alice"', '"a/b"', '".hidden"', '"a..b"', '{5}\r\nx\r\ny.'].entries()) {
      const tag = `d${i + 2}`;
      const reply = name.startsWith('{') ? await (async () => {
        imap.write(`${tag} CREATE {5}\r\n`);
        await imap.until(/^\+ /mu);
        imap.write('x\r\ny.\r\n');
        return imap.until(new RegExp(`^${tag} `, 'mu'));
      })() : await imap.command(tag, `CREATE ${name}`);
      assert.match(reply, new RegExp(`^${tag} NO \\[CANNOT\\]`, 'mu'), name);
      assert.match(await imap.command(`${tag}s`, `SELECT ${name.startsWith('{') ? '"a/b"' : name}`), /NO \[CANNOT\]/u);
    }
    assert.deepEqual((await readdir(root)).sort(), ['bob']);
    assert.match(await imap.command('d9', 'SELECT "../../../etc"'), /^d9 NO \[CANNOT\]/mu);
    imap.close();
  });

  it('slows down and ends repeated login failures, and refuses other domains', async () => {
    const imap = await RawImap.open(lab.imapPort);
    const started = Date.now();
    assert.match(await imap.command('e1', 'LOGIN bob@beta.test wrong'), /^e1 NO \[AUTHENTICATIONFAILED\]/mu);
    assert.match(await imap.command('e2', 'LOGIN nobody@beta.test secret'), /^e2 NO \[AUTHENTICATIONFAILED\]/mu);
    imap.write('e3 LOGIN bob@beta.test wrong2\r\n');
    assert.match(await imap.until(/^e3 NO/mu), /^\* BYE Too many failed logins/mu);
    assert.ok(Date.now() - started >= 10 + 20 + 30);
    await imap.waitClosed();

    const single = await startLab({ MRA_DOMAINS: 'alpha.test' });
    try {
      const other = await RawImap.open(single.imapPort);
      assert.match(await other.command('f1', 'LOGIN bob@beta.test secret'), /^f1 NO/mu);
      assert.match(await other.command('f2', 'LOGIN alice@alpha.test secret'), /^f2 OK/mu);
      other.close();
    } finally {
      await single.close();
    }
  });

  it('refuses plain-text login without TLS when the config says so, and allows it after STARTTLS and on implicit TLS', async () => {
    const strict = await startLab({ MRA_ALLOW_PLAINTEXT_AUTH: 'false' });
    try {
      const imap = await RawImap.open(strict.imapPort);
      const caps = await imap.command('g1', 'CAPABILITY');
      assert.match(caps, /LOGINDISABLED/u);
      assert.doesNotMatch(caps, /AUTH=PLAIN/u);
      assert.match(await imap.command('g2', 'LOGIN bob@beta.test secret'), /^g2 NO \[PRIVACYREQUIRED\]/mu);
      assert.match(await imap.command('g3', 'AUTHENTICATE PLAIN AGJvYkBiZXRhLnRlc3QAc2VjcmV0'), /^g3 NO \[PRIVACYREQUIRED\]/mu);
      imap.close();
      const secure = new ImapFlow({
        host: '127.0.0.1', port: strict.imapPort, secure: false, doSTARTTLS: true, logger: false,
        auth: { user: 'bob@beta.test', pass: 'secret' }, tls: { ca: await readFile(join(strict.config.MXLAB_TLS_DIR, 'ca.crt'), 'utf8'), servername: 'imap.alpha.test' },
      });
      await secure.connect();
      const inbox = await secure.status('INBOX', { messages: true });
      assert.ok(inbox && inbox.messages === 0);
      await secure.logout();
      const implicit = new ImapFlow({
        host: '127.0.0.1', port: strict.imapsPort, secure: true, logger: false,
        auth: { user: 'bob@beta.test', pass: 'secret' }, tls: { ca: await readFile(join(strict.config.MXLAB_TLS_DIR, 'ca.crt'), 'utf8'), servername: 'imap.alpha.test' },
      });
      await implicit.connect();
      await implicit.logout();
    } finally {
      await strict.close();
    }
  });

  it('logs out idle clients: sooner before login, later after (RFC 3501 §5.4)', async () => {
    const quick = await startLab({}, { imapTimeouts: { autologoutMs: 600, preauthMs: 200 } });
    try {
      const before = await RawImap.open(quick.imapPort);
      const started = Date.now();
      assert.match(await before.until(/^\* BYE Autologout/mu, 3000), /BYE/u);
      await before.waitClosed();
      assert.ok(Date.now() - started < 550);
      const after = await RawImap.open(quick.imapPort);
      await after.command('z1', 'LOGIN bob@beta.test secret');
      const loggedIn = Date.now();
      await after.until(/^\* BYE Autologout/mu, 3000);
      assert.ok(Date.now() - loggedIn >= 550);
      await after.waitClosed();
    } finally {
      await quick.close();
    }
  });

  it('discards commands pipelined after STARTTLS (no plaintext injection, RFC 3501 §6.2.1)', async () => {
    const socket = connect(lab.imapPort, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    await once(socket, 'connect');
    const wait = async (pattern: RegExp) => {
      for (let i = 0; i < 500 && !pattern.test(text); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.match(text, pattern);
    };
    await wait(/^\* OK/mu);
    socket.write('t1 STARTTLS\r\nt2 LOGIN bob@beta.test secret\r\n');
    await wait(/^t1 OK/mu);
    socket.removeAllListeners('data');
    const secure = tlsConnect({ socket, ca: await readFile(join(lab.config.MXLAB_TLS_DIR, 'ca.crt'), 'utf8'), servername: 'imap.alpha.test' });
    await once(secure, 'secureConnect');
    let after = '';
    secure.setEncoding('latin1');
    secure.on('data', (chunk: string) => (after += chunk));
    secure.write('t3 CAPABILITY\r\n');
    for (let i = 0; i < 500 && !/^t3 OK/mu.test(after); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.doesNotMatch(text + after, /^t2 /mu);
    assert.match(after, /^\* CAPABILITY .*AUTH=PLAIN/mu);
    assert.doesNotMatch(after, /STARTTLS/u);
    secure.destroy();
  });

  it('logs in with AUTHENTICATE PLAIN, with and without an initial response', async () => {
    const imap = await RawImap.open(lab.imapPort);
    imap.write('h1 AUTHENTICATE PLAIN\r\n');
    await imap.until(/^\+ ?\r\n/mu);
    imap.write(`${Buffer.from('\0bob@beta.test\0secret').toString('base64')}\r\n`);
    assert.match(await imap.until(/^h1 /mu), /^h1 OK/mu);
    imap.close();
    const second = await RawImap.open(lab.imapPort);
    assert.match(await second.command('h2', `AUTHENTICATE PLAIN ${Buffer.from('\0carol@beta.test\0secret').toString('base64')}`), /^h2 OK/mu);
    second.close();
  });
});
