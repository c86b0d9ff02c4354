/**
 * The auth penalty over real sockets (issue 19, item 5): per client address, shared by
 * IMAP and POP3, counted before the password check, never locking the user out of other
 * addresses; the web mail's ID x-originating-ip believed from MRA_TRUSTED_NETWORKS only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthPenalty } from '../../shared/auth-penalty.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMraConfig } from './config.ts';
import { startMra, type RunningMra } from './server.ts';

const HOST = '127.85.1.1';
const WEB_MAIL = '127.85.1.5';
/** Steps of 300 ms, 600 ms, then 1200 ms: long enough to see, short enough for a test. */
const INIT_MS = 300;

/** One line-oriented conversation from a chosen local address. */
class Line {
  private buffer = '';
  private wake: (() => void) | undefined;
  private readonly socket: Socket;

  constructor(port: number, from: string) {
    this.socket = connect({ host: HOST, port, localAddress: from });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (text: string) => {
      this.buffer += text;
      this.wake?.();
    });
    this.socket.on('error', () => undefined);
  }

  async until(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const match = pattern.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match.index + match[0].length);
        return match[0];
      }
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  async send(line: string, reply: RegExp): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.until(reply);
  }

  close(): void {
    this.socket.destroy();
  }
}

async function imapLogin(port: number, from: string, password: string, id?: string): Promise<{ ok: boolean; ms: number }> {
  const client = new Line(port, from);
  try {
    await client.until(/^\* OK[^\n]*\n/mu);
    if (id !== undefined) await client.send(`i ID ("name" "mxlab-mua" "x-originating-ip" "${id}")`, /^i OK[^\n]*\n/mu);
    const started = Date.now();
    const reply = await client.send(`a LOGIN alice@alpha.test ${password}`, /^a (OK|NO)[^\n]*\n/mu);
    return { ok: reply.startsWith('a OK'), ms: Date.now() - started };
  } finally {
    client.close();
  }
}

async function pop3Login(port: number, from: string, password: string): Promise<{ ok: boolean; ms: number }> {
  const client = new Line(port, from);
  try {
    await client.until(/^\+OK[^\n]*\n/mu);
    await client.send('USER alice@alpha.test', /^\+OK[^\n]*\n/mu);
    const started = Date.now();
    const reply = await client.send(`PASS ${password}`, /^[+-](OK|ERR)[^\n]*\n/mu);
    return { ok: reply.startsWith('+OK'), ms: Date.now() - started };
  } finally {
    client.close();
  }
}

describe('auth penalty per client address (IMAP and POP3)', () => {
  let dir: string;
  let mra: RunningMra;
  let imap = 0;
  let pop3 = 0;
  /** Every penalty delay the MRA waited, in order: what the tests check, instead of clocks. */
  const delays: number[] = [];
  const taken = () => delays.splice(0);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-penalty-'));
    await ensureLabUsers(join(dir, 'users'), 'secret');
    const config = loadMraConfig({
      MXLAB_USERS_DIR: join(dir, 'users'),
      MXLAB_TLS_DIR: join(dir, 'tls'),
      MXLAB_MAIL_ROOT: join(dir, 'mail'),
      MRA_DOMAINS: 'alpha.test',
      MRA_IMAP_LISTEN: `${HOST}:0`,
      MRA_IMAPS_LISTEN: '',
      MRA_POP3_LISTEN: `${HOST}:0`,
      MRA_POP3S_LISTEN: '',
      MRA_ALLOW_PLAINTEXT_AUTH: 'true',
      MRA_TRUSTED_NETWORKS: WEB_MAIL,
      LOG_LEVEL: 'silent',
    });
    const sleep = (ms: number) => {
      delays.push(ms);
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    };
    mra = await startMra(config, { authFailureDelayMs: 1, penalty: new AuthPenalty({ initMs: INIT_MS, maxMs: 4 * INIT_MS, sleep }) });
    imap = mra.imap[0]?.port ?? 0;
    pop3 = mra.pop3[0]?.port ?? 0;
    // The first scrypt check of a test process is slower; keep it out of the timings.
    assert.ok((await imapLogin(imap, '127.85.1.9', 'secret')).ok);
    assert.deepEqual(taken(), []);
  });

  after(async () => {
    await mra.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a failure on one connection delays the next attempt on a new one, over IMAP and POP3 alike', async () => {
    const from = '127.85.1.2';
    assert.equal((await imapLogin(imap, from, 'guess1')).ok, false);
    assert.deepEqual(taken(), []);
    const second = await pop3Login(pop3, from, 'guess2');
    assert.equal(second.ok, false);
    assert.deepEqual(taken(), [INIT_MS], 'POP3 after an IMAP failure waits');
    const right = await imapLogin(imap, from, 'secret');
    assert.ok(right.ok, 'the right password still works: a delay, not a lockout');
    assert.deepEqual(taken(), [2 * INIT_MS]);
    assert.ok(right.ms >= 2 * INIT_MS, `the third attempt answered after ${right.ms} ms`);
    assert.ok((await imapLogin(imap, from, 'secret')).ok);
    assert.deepEqual(taken(), [], 'a success clears the address');
  });

  it('parallel guesses are counted before the check and queue up; the user logs in from elsewhere meanwhile', async () => {
    const from = '127.85.1.3';
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => imapLogin(imap, from, `parallel${i}`)));
    assert.ok(results.every((result) => !result.ok));
    // Each guess behind the first was held for the delay the attempts ahead of it count
    // for (pending ones as failures); one held until those settled then waits out the rest
    // of what their failures ask for, never more.
    const waited = taken();
    for (const step of [1, 2, 4, 4, 4]) {
      const at = waited.indexOf(step * INIT_MS);
      assert.ok(at !== -1, `five of six parallel guesses were held, longer and longer: ${waited.join(', ')}`);
      waited.splice(at, 1);
    }
    assert.ok(waited.every((ms) => ms > 0 && ms <= 4 * INIT_MS), `the rests of those delays: ${waited.join(', ')}`);
    assert.ok(Math.max(...results.map((result) => result.ms)) >= 4 * INIT_MS, 'the last guess waited at least the longest delay');
    assert.ok((await imapLogin(imap, '127.85.1.4', 'secret')).ok);
    assert.deepEqual(taken(), [], 'alice from another address is not slowed');
  });

  it("takes the web mail's x-originating-ip as the client, and only from MRA_TRUSTED_NETWORKS", async () => {
    assert.equal((await imapLogin(imap, WEB_MAIL, 'guess', '192.0.2.9')).ok, false);
    assert.ok((await imapLogin(imap, WEB_MAIL, 'secret', '192.0.2.10')).ok);
    assert.deepEqual(taken(), [], "another browser behind the web mail is not slowed by the first one's failure");
    assert.ok((await imapLogin(imap, WEB_MAIL, 'secret', '192.0.2.9')).ok);
    assert.deepEqual(taken(), [INIT_MS], 'the same browser address is');
    // An untrusted client cannot pick its penalty key: its ID is ignored, its own address counts.
    const stranger = '127.85.1.6';
    assert.equal((await imapLogin(imap, stranger, 'guess', '192.0.2.11')).ok, false);
    assert.equal((await imapLogin(imap, stranger, 'guess', '192.0.2.12')).ok, false);
    assert.deepEqual(taken(), [INIT_MS], 'an untrusted client cannot escape its penalty by ID');
  });
});
