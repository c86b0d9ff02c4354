import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUTH_FAILURE_DELAY_MS, MAX_BAD_COMMANDS } from './limits.ts';
import { LOCK_FILE_NAME } from './lock.ts';
import { RawPop3, startPop3Lab, type Pop3Lab } from '../testing/pop3.ts';

const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

describe('POP3 over raw sockets, with MRA_POP3_LOCK', () => {
  let lab: Pop3Lab;

  before(async () => {
    lab = await startPop3Lab({ allowPlaintextAuth: true, lock: true });
    await lab.deliver('carol', 'Subject: one\r\n\r\n1\r\n');
  });

  after(async () => {
    await lab.close();
  });

  it('locks the maildrop: a second session gets -ERR [IN-USE] until the first quits', async () => {
    const first = await RawPop3.connect(lab.port);
    const second = await RawPop3.connect(lab.port);
    try {
      assert.match(await first.command(`AUTH PLAIN ${plain('carol@beta.test', 'secret')}`), /^\+OK /u);
      assert.match(await second.command('USER carol@beta.test'), /^\+OK/u);
      assert.match(await second.command('PASS secret'), /^-ERR \[IN-USE\] /u);
      assert.match(await first.command('QUIT'), /^\+OK /u);
      await first.closed();
      assert.match(await second.command('USER carol@beta.test'), /^\+OK/u);
      assert.match(await second.command('PASS secret'), /^\+OK carol@beta\.test has 1 messages/u);
      assert.match(await second.command('QUIT'), /^\+OK/u);
    } finally {
      first.end();
      second.end();
    }
  });

  it('respects the lock file of another live process, and takes over a dead one', async () => {
    const lockPath = join(lab.mailRoot, 'beta.test', 'carol', LOCK_FILE_NAME);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await writeFile(lockPath, JSON.stringify({ host: hostname(), pid: other.pid }));
      const client = await RawPop3.connect(lab.port);
      assert.match(await client.command(`AUTH PLAIN ${plain('carol@beta.test', 'secret')}`), /^-ERR \[IN-USE\] /u);
      other.kill();
      await once(other, 'exit');
      assert.match(await client.command(`AUTH PLAIN ${plain('carol@beta.test', 'secret')}`), /^\+OK /u);
      assert.match(await client.command('QUIT'), /^\+OK/u);
      client.end();
    } finally {
      other.kill();
      await unlink(lockPath).catch(() => undefined);
    }
  });

  it('AUTH PLAIN with a continuation line, cancel with *, and a bad password as -ERR [AUTH]', async () => {
    const client = await RawPop3.connect(lab.port);
    try {
      assert.equal(await client.command('AUTH PLAIN'), '+ ');
      assert.match(await client.command('*'), /^-ERR /u);
      assert.equal(await client.command('AUTH PLAIN'), '+ ');
      const started = Date.now();
      assert.match(await client.command(plain('carol@beta.test', 'wrong')), /^-ERR \[AUTH\] /u);
      assert.ok(Date.now() - started >= AUTH_FAILURE_DELAY_MS - 50, 'a failed login is slowed down');
      assert.match(await client.command(`AUTH PLAIN ${plain('alice@alpha.test', 'secret')}`), /^-ERR \[AUTH\] /u, 'not a domain of this MRA');
      assert.match(await client.command(`AUTH PLAIN ${Buffer.from('bob@beta.test\0carol@beta.test\0secret').toString('base64')}`), /^-ERR \[AUTH\] /u);
      assert.equal(await client.command('AUTH PLAIN'), '+ ');
      assert.match(await client.command(plain('carol@beta.test', 'secret')), /^\+OK /u);
      assert.match(await client.command('QUIT'), /^\+OK/u);
    } finally {
      client.end();
    }
  });

  it('shows mail delivered during a session only in the next session; no QUIT means no deletion', async () => {
    const client = await RawPop3.connect(lab.port);
    try {
      await client.command('USER carol@beta.test');
      assert.match(await client.command('PASS secret'), /^\+OK .*has 1 messages/u);
      await lab.deliver('carol', 'Subject: two\r\n\r\n2\r\n');
      assert.match(await client.command('STAT'), /^\+OK 1 /u);
      assert.match(await client.command('LIST 2'), /^-ERR no such message/u);
      assert.match(await client.command('DELE 1'), /^\+OK/u);
    } finally {
      client.end();
    }
    await client.closed();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await RawPop3.connect(lab.port);
    try {
      await next.command('USER carol@beta.test');
      assert.match(await next.command('PASS secret'), /^\+OK .*has 2 messages/u);
      assert.match(await next.command('LIST'), /^\+OK 2 messages/u);
      assert.match((await next.body()).toString(), /^1 \d+\r\n2 \d+\r\n$/u);
      assert.match(await next.command('QUIT'), /^\+OK/u);
    } finally {
      next.end();
    }
  });

  it('refuses commands in the wrong state, long lines, and closes after too many bad commands', async () => {
    const client = await RawPop3.connect(lab.port);
    try {
      assert.match(await client.command('STAT'), /^-ERR STAT is not valid in the AUTHORIZATION state/u);
      assert.match(await client.command('HELO x'), /^-ERR unknown command HELO/u);
      assert.match(await client.command(`USER ${'a'.repeat(300)}`), /^-ERR command line longer than 255 octets/u);
      client.socket.write('X'.repeat(20_000));
      assert.match(await client.command(''), /^-ERR command line too long/u);
      assert.match(await client.command('CAPA'), /^\+OK/u);
      assert.match((await client.body()).toString(), /^TOP\r\n/u);
      for (let n = 5; n <= MAX_BAD_COMMANDS; n += 1) assert.match(await client.command('BOGU'), /^-ERR unknown/u);
      assert.match(await client.command('BOGU'), /too many bad commands/u);
      await client.closed();
    } finally {
      client.end();
    }
  });

  it('RETR of a message renamed by another client still works (tracked by unique name)', async () => {
    const client = await RawPop3.connect(lab.port);
    try {
      await client.command('USER carol@beta.test');
      assert.match(await client.command('PASS secret'), /^\+OK/u);
      const maildir = join(lab.mailRoot, 'beta.test', 'carol');
      for (const name of await readdir(join(maildir, 'new'))) await rename(join(maildir, 'new', name), join(maildir, 'cur', `${name}:2,F`));
      assert.match(await client.command('RETR 2'), /^\+OK \d+ octets/u);
      assert.equal((await client.body()).toString(), 'Subject: two\r\n\r\n2\r\n');
      assert.match(await client.command('QUIT'), /^\+OK/u);
      assert.ok((await readdir(join(maildir, 'cur'))).some((name) => name.endsWith(':2,FS')));
    } finally {
      client.end();
    }
  });
});

describe('POP3 without plain-text login before TLS', () => {
  let lab: Pop3Lab;

  before(async () => {
    lab = await startPop3Lab({ allowPlaintextAuth: false });
  });

  after(async () => {
    await lab.close();
  });

  it('asks for STLS, drops commands pipelined after STLS, then accepts USER/PASS over TLS', async () => {
    const client = await RawPop3.connect(lab.port);
    try {
      assert.match(await client.command('CAPA'), /^\+OK/u);
      const before = (await client.body()).toString();
      assert.match(before, /\r\nSTLS\r\n/u);
      assert.doesNotMatch(before, /USER|SASL/u);
      assert.match(await client.command('USER bob@beta.test'), /^-ERR \[AUTH\] .*STLS/u);
      assert.match(await client.command(`AUTH PLAIN ${plain('bob@beta.test', 'secret')}`), /^-ERR \[AUTH\] /u);
      client.socket.write('STLS\r\nUSER injected\r\n');
      assert.match(await client.line(), /^\+OK begin TLS/u);
      await client.startTls(lab.ca);
      assert.match(await client.command('PASS secret'), /^-ERR send USER first/u);
      assert.match(await client.command('CAPA'), /^\+OK/u);
      const after = (await client.body()).toString();
      assert.match(after, /\r\nUSER\r\n/u);
      assert.doesNotMatch(after, /STLS/u);
      assert.match(await client.command('STLS'), /^-ERR/u);
      assert.match(await client.command('USER bob@beta.test'), /^\+OK/u);
      assert.match(await client.command('PASS secret'), /^\+OK bob@beta\.test has 0 messages/u);
      assert.match(await client.command('QUIT'), /^\+OK/u);
    } finally {
      client.end();
    }
  });

  it('implicit TLS allows USER/PASS at once', async () => {
    const client = await RawPop3.connect(lab.tlsPort, { tls: { ca: lab.ca } });
    try {
      assert.match(await client.command('USER bob@beta.test'), /^\+OK/u);
      assert.match(await client.command('PASS secret'), /^\+OK/u);
      assert.match(await client.command('QUIT'), /^\+OK/u);
    } finally {
      client.end();
    }
  });
});

describe('POP3 server close()', () => {
  it('ends logged-in sessions without applying DELE, releases their locks, and drops stalled TLS handshakes', async () => {
    const lab = await startPop3Lab({ allowPlaintextAuth: true, lock: true });
    await lab.deliver('bob', 'Subject: kept\r\n\r\nx\r\n');
    const client = await RawPop3.connect(lab.port);
    await client.command('USER bob@beta.test');
    assert.match(await client.command('PASS secret'), /^\+OK/u);
    assert.match(await client.command('DELE 1'), /^\+OK/u);
    const stalled = connect({ host: '127.0.0.1', port: lab.tlsPort });
    stalled.on('error', () => undefined);
    await once(stalled, 'connect');
    const started = Date.now();
    await lab.close();
    assert.ok(Date.now() - started < 5_000, 'close() did not wait for the idle clients');
    await client.closed();
    stalled.destroy();
    const maildir = join(lab.mailRoot, 'beta.test', 'bob');
    assert.equal((await readdir(join(maildir, 'new'))).length, 1, 'DELE without QUIT is not applied');
    assert.ok(!(await readdir(maildir)).includes(LOCK_FILE_NAME), 'lock released');
  });
});
