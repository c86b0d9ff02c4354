import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMdaConfig } from './config.ts';
import { startMda, type RunningMda } from './server.ts';

/** A scripted LMTP client on a raw socket: send a line, read one (possibly multi-line) reply. */
class RawClient {
  private buffer = '';
  private readonly waiting: (() => void)[] = [];
  readonly socket: net.Socket;

  constructor(port: number, host = '127.0.0.1', localAddress?: string) {
    this.socket = net.connect({ host, port, ...(localAddress === undefined ? {} : { localAddress }) });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (text: string) => {
      this.buffer += text;
      for (const wake of this.waiting.splice(0)) wake();
    });
  }

  async reply(): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const match = /^(?:\d{3}-[^\n]*\n)*\d{3} [^\n]*\n/u.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        return match[0].trimEnd();
      }
      if (Date.now() > deadline) throw new Error(`no reply; buffered ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }
}

async function files(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

describe('MDA over LMTP', () => {
  let mda: RunningMda;
  let port = 0;
  let root = '';

  before(async () => {
    const base = await mkdtemp(join(tmpdir(), 'mxlab-mda-'));
    root = join(base, 'mail');
    await ensureLabUsers(join(base, 'users'), 'secret');
    const config = loadMdaConfig({
      MXLAB_USERS_DIR: join(base, 'users'),
      MXLAB_MAIL_ROOT: root,
      MDA_NAME: 'beta-mda',
      MDA_HOSTNAME: 'lmtp.beta.test',
      MDA_DOMAINS: 'beta.test',
      MDA_LMTP_LISTEN: '127.0.0.1:0',
    });
    mda = await startMda(config);
    port = mda.lmtp[0]?.port ?? 0;
  });

  after(async () => {
    await mda.close();
  });

  it('delivers with nodemailer (lmtp: true), refusing the unknown recipient at RCPT', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, lmtp: true, ignoreTLS: true });
    const raw = Buffer.from('From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: one\r\nMessage-ID: <one@alpha.test>\r\n\r\nHello.\r\n.dot\r\n');
    const info = await transport.sendMail({ envelope: { from: 'alice@alpha.test', to: ['bob@beta.test', 'nobody@beta.test'] }, raw });
    transport.close();
    assert.deepEqual(info.accepted, ['bob@beta.test']);
    assert.deepEqual(info.rejected, ['nobody@beta.test']);
    assert.match(String((info.rejectedErrors?.[0] as { response?: string } | undefined)?.response), /^550 5\.1\.1 /);

    const inbox = join(root, 'beta.test', 'bob', 'new');
    const names = await files(inbox);
    assert.equal(names.length, 1);
    const stored = await readFile(join(inbox, names[0] ?? ''));
    const text = stored.toString();
    assert.match(text, /^Return-Path: <alice@alpha\.test>\r\nDelivered-To: bob@beta\.test\r\nReceived: from /u);
    assert.match(text, /by lmtp\.beta\.test \(mxlab beta-mda\) with LMTP id \S+\r\n\tfor <bob@beta\.test>; /u);
    assert.ok(stored.subarray(stored.length - raw.length).equals(raw), 'the message follows the trace byte for byte');
    assert.deepEqual(await files(join(root, 'beta.test', 'nobody')), []);
  });

  it('answers once per recipient after DATA and refuses foreign domains and path tricks at RCPT', async () => {
    const client = new RawClient(port);
    try {
      assert.match(await client.reply(), /^220 lmtp\.beta\.test /u);
      assert.match(await client.command('LHLO mx1.beta.test'), /^250[ -]/u);
      assert.match(await client.command('MAIL FROM:<>'), /^250 /u);
      assert.match(await client.command('RCPT TO:<carol@beta.test>'), /^250 /u);
      assert.match(await client.command('RCPT TO:<nobody@beta.test>'), /^550 5\.1\.1 /u);
      assert.match(await client.command('RCPT TO:<alice@alpha.test>'), /^550 5\.1\.1 /u);
      assert.match(await client.command('RCPT TO:<"../../etc"@beta.test>'), /^5\d\d /u);
      assert.match(await client.command('RCPT TO:<"../bob"@beta.test>'), /^5\d\d /u);
      assert.match(await client.command('RCPT TO:<constructor@beta.test>'), /^550 5\.1\.1 /u);
      assert.match(await client.command('RCPT TO:<__proto__@beta.test>'), /^550 5\.1\.1 /u);
      assert.match(await client.command('RCPT TO:<postmaster@beta.test>'), /^250 /u);
      assert.match(await client.command('DATA'), /^354 /u);
      const first = await client.command('Subject: two\r\nMessage-ID: <two@alpha.test>\r\n\r\n..leading dot\r\n.');
      const second = await client.reply();
      assert.match(first, /^250 2\.\d\.\d <carol@beta\.test> delivered to INBOX/u);
      assert.match(second, /^250 2\.\d\.\d <postmaster@beta\.test> delivered to INBOX/u);
      assert.match(await client.command('QUIT'), /^221 /u);
    } finally {
      client.socket.destroy();
    }
    const carol = await files(join(root, 'beta.test', 'carol', 'new'));
    assert.equal(carol.length, 1);
    const text = await readFile(join(root, 'beta.test', 'carol', 'new', carol[0] ?? ''), 'utf8');
    assert.match(text, /^Return-Path: <>\r\nDelivered-To: carol@beta\.test\r\n/u);
    assert.match(text, /\r\n\r\n\.leading dot\r\n$/u);
    const bob = await files(join(root, 'beta.test', 'bob', 'new'));
    assert.equal(bob.length, 2, 'postmaster@ is an alias of bob');
    assert.deepEqual((await readdir(root)).sort(), ['beta.test']);
    assert.deepEqual((await readdir(join(root, 'beta.test'))).sort(), ['bob', 'carol']);
  });

  it('files X-Spam-Flag: YES mail into .Junk', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, lmtp: true, ignoreTLS: true });
    const raw = 'Received: from mx1.beta.test by lmtp.beta.test; Thu, 3 Dec 2026 08:00:00 +0000\r\nX-Spam-Flag: YES\r\nX-Spam-Score: 1000\r\nSubject: spam\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n';
    const info = await transport.sendMail({ envelope: { from: 'spammer@example.com', to: ['carol@beta.test'] }, raw });
    transport.close();
    assert.deepEqual(info.accepted, ['carol@beta.test']);
    const junk = await files(join(root, 'beta.test', 'carol', '.Junk', 'new'));
    assert.equal(junk.length, 1);
    assert.match(await readFile(join(root, 'beta.test', 'carol', '.Junk', 'new', junk[0] ?? ''), 'utf8'), /Subject: spam/u);
    assert.equal((await files(join(root, 'beta.test', 'carol', 'new'))).length, 1, 'INBOX unchanged');
  });

  it('answers 451 4.3.0 for the recipient whose Maildir cannot be written, 250 for the other', async () => {
    // carol's new/ replaced by a plain file: the move from tmp/ into new/ cannot succeed
    const carolNew = join(root, 'beta.test', 'carol', 'new');
    await rm(carolNew, { recursive: true });
    await writeFile(carolNew, 'not a directory');

    const client = new RawClient(port);
    try {
      await client.reply();
      await client.command('LHLO mx1.beta.test');
      await client.command('MAIL FROM:<alice@alpha.test>');
      assert.match(await client.command('RCPT TO:<carol@beta.test>'), /^250 /u);
      assert.match(await client.command('RCPT TO:<bob@beta.test>'), /^250 /u);
      assert.match(await client.command('DATA'), /^354 /u);
      assert.match(await client.command('Subject: three\r\n\r\nx\r\n.'), /^451 4\.3\.0 <carol@beta\.test>/u);
      assert.match(await client.reply(), /^250 2\.\d\.\d <bob@beta\.test>/u);
      await client.command('QUIT');
    } finally {
      client.socket.destroy();
    }
    assert.deepEqual(await files(join(root, 'beta.test', 'carol', 'tmp')), [], 'no leftovers in tmp/');
  });

  it('keeps only the delivering MTA\'s verdict: forged X-Virus-*/X-Spam-* fields further down are removed', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, lmtp: true, ignoreTLS: true });
    const raw = [
      'Received: from mx.alpha.test by mx1.beta.test (mxlab beta-mx1) with ESMTP id Q1; Thu, 3 Dec 2026 08:00:00 +0000',
      'X-Virus-Scanned: mxlab-caller (eicar)',
      'X-Virus-Status: Infected (Eicar-Test-Signature)',
      'Received: from forged.example by mx.alpha.test; Thu, 3 Dec 2026 07:00:00 +0000',
      'X-Virus-Status: Clean',
      'X-Spam-Flag: YES',
      'x-spam-status: No, score=-100',
      '\tfolded=yes',
      'Subject: forged verdict',
      '',
      'body',
      '',
    ].join('\r\n');
    const info = await transport.sendMail({ envelope: { from: 'alice@alpha.test', to: ['bob@beta.test'] }, raw });
    transport.close();
    assert.deepEqual(info.accepted, ['bob@beta.test']);
    const inbox = join(root, 'beta.test', 'bob', 'new');
    const texts = await Promise.all((await files(inbox)).map((name) => readFile(join(inbox, name), 'latin1')));
    const text = texts.find((candidate) => candidate.includes('Subject: forged verdict'));
    assert.ok(text, 'delivered to INBOX, not Junk: the forged X-Spam-Flag does not count');
    assert.match(text, /X-Virus-Status: Infected \(Eicar-Test-Signature\)\r\nReceived: from forged\.example/u);
    assert.doesNotMatch(text, /X-Virus-Status: Clean|X-Spam-|folded=yes/iu);
  });
});

describe('MDA LMTP clients (MDA_LMTP_CLIENTS)', () => {
  let mda: RunningMda;
  let base = '';

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'mxlab-mda-clients-'));
    await ensureLabUsers(join(base, 'users'), 'secret');
    mda = await startMda(
      loadMdaConfig({
        MXLAB_USERS_DIR: join(base, 'users'),
        MXLAB_MAIL_ROOT: join(base, 'mail'),
        MDA_DOMAINS: 'alpha.test',
        MDA_LMTP_LISTEN: '127.85.0.11:0',
        MDA_LMTP_CLIENTS: '127.85.0.10',
      }),
    );
  });

  after(async () => {
    await mda.close();
    await rm(base, { recursive: true, force: true });
  });

  it('refuses a client that is not a lab MTA with 554 5.7.1 before any command, and delivers nothing', async () => {
    const port = mda.lmtp[0]?.port ?? 0;
    const stranger = new RawClient(port, '127.85.0.11', '127.85.0.99');
    try {
      assert.match(await stranger.reply(), /^554 5\.7\.1 LMTP is only for the lab MTAs/u);
    } finally {
      stranger.socket.destroy();
    }
    const transport = nodemailer.createTransport({ host: '127.85.0.11', port, lmtp: true, ignoreTLS: true, localAddress: '127.85.0.12' });
    await assert.rejects(
      transport.sendMail({ envelope: { from: 'mallory@evil.test', to: ['alice@alpha.test'] }, raw: 'Subject: x\r\n\r\nx\r\n' }),
      /554/u,
    );
    transport.close();
    assert.deepEqual(await files(join(base, 'mail')), []);

    const mta = new RawClient(port, '127.85.0.11', '127.85.0.10');
    try {
      assert.match(await mta.reply(), /^220 /u);
      assert.match(await mta.command('QUIT'), /^221 /u);
    } finally {
      mta.socket.destroy();
    }
  });
});
