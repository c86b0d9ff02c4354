/**
 * Several POP3 sessions of one user at once (issue 14: a phone and a desktop, both
 * "leave on server"), as Dovecot allows by default: each session sees the maildrop as it
 * was at its own login; a message another session removed is -ERR, never a crash or a
 * half message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { python, RawPop3, startPop3Lab, type Pop3Lab } from '../testing/pop3.ts';

const login = async (client: RawPop3, user: string) => {
  assert.match(await client.command(`USER ${user}`), /^\+OK/u);
  return client.command('PASS secret');
};

describe('POP3 sessions of one user at once (no MRA_POP3_LOCK)', () => {
  let lab: Pop3Lab;

  before(async () => {
    lab = await startPop3Lab({ allowPlaintextAuth: true });
  });

  after(async () => {
    await lab.close();
  });

  it('each session sees the maildrop as at its login; a message deleted by another is -ERR on RETR', async () => {
    await lab.deliver('carol', 'Subject: one\r\n\r\n1\r\n');
    await lab.deliver('carol', 'Subject: two\r\n\r\n2\r\n');
    const phone = await RawPop3.connect(lab.port);
    const desktop = await RawPop3.connect(lab.port);
    try {
      assert.match(await login(phone, 'carol@beta.test'), /^\+OK carol@beta\.test has 2 messages/u);
      await lab.deliver('carol', 'Subject: three\r\n\r\n3\r\n');
      assert.match(await login(desktop, 'carol@beta.test'), /^\+OK carol@beta\.test has 3 messages/u);
      assert.match(await phone.command('STAT'), /^\+OK 2 /u, 'a delivery after login waits for the next session');

      const uidl = await desktop.command('UIDL 1');
      assert.match(uidl, /^\+OK 1 \S+$/u);
      assert.match(await desktop.command('DELE 1'), /^\+OK/u);
      assert.match(await desktop.command('QUIT'), /^\+OK .*2 messages left/u);
      await desktop.closed();

      assert.equal(await phone.command('UIDL 1'), uidl, 'the list stays as at login');
      assert.match(await phone.command('RETR 1'), /^-ERR message 1 was removed by another client/u);
      assert.match(await phone.command('RETR 2'), /^\+OK \d+ octets/u);
      assert.equal((await phone.body()).toString(), 'Subject: two\r\n\r\n2\r\n');
      assert.match(await phone.command('DELE 1'), /^\+OK/u, 'DELE of a message gone meanwhile is harmless');
      assert.match(await phone.command('QUIT'), /^\+OK .*signing off/u);
      await phone.closed();

      const next = await RawPop3.connect(lab.port);
      assert.match(await login(next, 'carol@beta.test'), /^\+OK carol@beta\.test has 2 messages/u);
      assert.match(await next.command('RETR 1'), /^\+OK/u);
      assert.equal((await next.body()).toString(), 'Subject: two\r\n\r\n2\r\n');
      assert.match(await next.command('QUIT'), /^\+OK/u);
      next.end();
    } finally {
      phone.end();
      desktop.end();
    }
  });

  it('a message read ahead after RETR and deleted by another session meanwhile is -ERR, not the copy in memory', async () => {
    const empty = await RawPop3.connect(lab.port);
    const [, left] = /has (\d+) messages/u.exec(await login(empty, 'carol@beta.test')) ?? [];
    for (let i = 1; i <= Number(left); i += 1) assert.match(await empty.command(`DELE ${i}`), /^\+OK/u);
    assert.match(await empty.command('QUIT'), /^\+OK .*0 messages left/u);
    empty.end();
    for (const n of ['four', 'five', 'six']) await lab.deliver('carol', `Subject: ${n}\r\n\r\n${n}\r\n`);
    const phone = await RawPop3.connect(lab.port);
    const desktop = await RawPop3.connect(lab.port);
    try {
      assert.match(await login(phone, 'carol@beta.test'), /^\+OK carol@beta\.test has 3 messages/u);
      assert.match(await login(desktop, 'carol@beta.test'), /^\+OK carol@beta\.test has 3 messages/u);
      assert.match(await phone.command('RETR 1'), /^\+OK \d+ octets/u);
      assert.equal((await phone.body()).toString(), 'Subject: four\r\n\r\nfour\r\n');
      // The phone's session has read message 2 ahead by now (after its reply to RETR 1).
      assert.match(await desktop.command('DELE 2'), /^\+OK/u);
      assert.match(await desktop.command('QUIT'), /^\+OK .*2 messages left/u);
      await desktop.closed();

      assert.match(await phone.command('RETR 2'), /^-ERR message 2 was removed by another client/u);
      assert.match(await phone.command('RETR 3'), /^\+OK \d+ octets/u);
      assert.equal((await phone.body()).toString(), 'Subject: six\r\n\r\nsix\r\n');
      assert.match(await phone.command('TOP 1 0'), /^\+OK/u, 'TOP after a read ahead of another message');
      assert.equal((await phone.body()).toString(), 'Subject: four\r\n\r\n');
      assert.match(await phone.command('QUIT'), /^\+OK/u);
      await phone.closed();
    } finally {
      phone.end();
      desktop.end();
    }
  });

  it('8 poplib sessions of one user RETR every message at once, all complete and equal', async () => {
    for (let i = 0; i < 40; i += 1) await lab.deliver('bob', `Subject: m${i}\r\n\r\n${'x'.repeat(2000)} ${i}\r\n`);
    const out = await python(
      String.raw`
import poplib, sys, threading, hashlib
results = [None] * 8
def run(n):
    pop = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=20)
    pop.user('bob@beta.test'); pop.pass_('secret')
    count = pop.stat()[0]
    digest = hashlib.sha256()
    for i in range(1, count + 1):
        digest.update(b'\n'.join(pop.retr(i)[1]))
    pop.quit()
    results[n] = (count, digest.hexdigest())
threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(len(set(results)), results[0][0])
`,
      [String(lab.port)],
    );
    assert.equal(out.trim(), '1 40');
  });
});
