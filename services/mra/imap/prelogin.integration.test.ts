/** Pre-login limits over real sockets (issue 19, item 7): small literals, slots per address, a login deadline. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureLabUsers } from '../../../shared/users.ts';
import { loadMraConfig } from '../config.ts';
import { startMra, type RunningMra } from '../server.ts';

const HOST = '127.85.2.1';

class Line {
  buffer = '';
  readonly socket: Socket;
  constructor(port: number, from: string) {
    this.socket = connect({ host: HOST, port, localAddress: from });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (text: string) => (this.buffer += text));
    this.socket.on('error', () => undefined);
  }
  async until(pattern: RegExp, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match.index + match[0].length);
        return match[0];
      }
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(this.buffer)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  send(text: string): void {
    this.socket.write(text);
  }
}

describe('IMAP before login', () => {
  let dir: string;
  let mra: RunningMra;
  let port = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-prelogin-'));
    // Cheap hashes: these tests are about the limits before login, and a login must fit in
    // the short deadline below however loaded the machine is (scrypt at N=2^15 took seconds).
    await ensureLabUsers(join(dir, 'users'), 'secret', { N: 1024, r: 8, p: 1 });
    const config = loadMraConfig({
      MXLAB_USERS_DIR: join(dir, 'users'),
      MXLAB_TLS_DIR: join(dir, 'tls'),
      MXLAB_MAIL_ROOT: join(dir, 'mail'),
      MRA_DOMAINS: 'alpha.test',
      MRA_IMAP_LISTEN: `${HOST}:0`,
      MRA_IMAPS_LISTEN: '',
      MRA_POP3_LISTEN: '',
      MRA_POP3S_LISTEN: '',
      MRA_ALLOW_PLAINTEXT_AUTH: 'true',
      LOG_LEVEL: 'silent',
    });
    mra = await startMra(config, { preloginPerAddress: 3, imapTimeouts: { autologoutMs: 60_000, preauthMs: 60_000, loginDeadlineMs: 3_000 } });
    port = mra.imap[0]?.port ?? 0;
  });
  after(async () => {
    await mra.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes only small literals before login, large ones after', async () => {
    const client = new Line(port, '127.85.2.2');
    try {
      await client.until(/^\* OK[^\n]*\n/mu);
      client.send('a LOGIN {1000000}\r\n');
      assert.match(await client.until(/^a (NO|BAD)[^\n]*\n/mu), /^a NO/u);
      client.send('b LOGIN {16}\r\n');
      await client.until(/^\+[^\n]*\n/mu);
      client.send('alice@alpha.test secret\r\n');
      await client.until(/^b OK[^\n]*\n/mu);
      client.send('c APPEND INBOX {1000000}\r\n');
      await client.until(/^\+[^\n]*\n/mu);
    } finally {
      client.socket.destroy();
    }
  });

  it('greets one connection too many from an address that has not logged in with BYE; others still get in', async () => {
    const from = '127.85.2.3';
    const held = [0, 1, 2].map(() => new Line(port, from));
    try {
      for (const client of held) await client.until(/^\* OK[^\n]*\n/mu);
      const extra = new Line(port, from);
      assert.match(await extra.until(/^\* BYE[^\n]*\n/mu), /Too many connections from your address/u);
      extra.socket.destroy();
      const other = new Line(port, '127.85.2.4');
      await other.until(/^\* OK[^\n]*\n/mu);
      other.socket.destroy();
      held[0]?.send('a LOGIN alice@alpha.test secret\r\n');
      await held[0]?.until(/^a OK[^\n]*\n/mu);
      const after = new Line(port, from);
      await after.until(/^\* OK[^\n]*\n/mu);
      after.socket.destroy();
    } finally {
      for (const client of held) client.socket.destroy();
    }
  });

  it('ends a connection that has not logged in by the deadline, however busy; not a logged-in one', async () => {
    const idle = new Line(port, '127.85.2.5');
    const user = new Line(port, '127.85.2.5');
    try {
      await idle.until(/^\* OK[^\n]*\n/mu);
      await user.until(/^\* OK[^\n]*\n/mu);
      user.send('a LOGIN alice@alpha.test secret\r\n');
      await user.until(/^a OK[^\n]*\n/mu);
      const ticker = setInterval(() => idle.send('n NOOP\r\n'), 200);
      try {
        assert.match(await idle.until(/^\* BYE[^\n]*\n/mu, 15_000), /Login time is over/u);
      } finally {
        clearInterval(ticker);
      }
      user.send('b NOOP\r\n');
      await user.until(/^b OK[^\n]*\n/mu);
    } finally {
      idle.socket.destroy();
      user.socket.destroy();
    }
  });
});
