import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPython } from '../../../shared/testing/processes.ts';
import { deliver, sampleMessage, startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';

async function poplib(port: number, script: string): Promise<string> {
  const result = await runPython(script, [String(port)]);
  if (result.code !== 0) throw new Error(`python exited ${result.code}: ${result.stderr}`);
  return result.stdout.toString();
}

describe('IMAP and POP3 over the same Maildir', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ MRA_POP3_LISTEN: '127.0.0.1:0' });
  });
  after(async () => {
    await lab.close();
  });

  it('keeps IMAP UIDs while POP3 reads, and reports what POP3 deleted', async () => {
    const maildir = lab.maildir('bob@beta.test');
    for (const subject of ['pop one', 'pop two', 'pop three']) await deliver(maildir, sampleMessage(subject));
    const imap = await RawImap.open(lab.imapPort);
    await imap.command('a1', 'LOGIN bob@beta.test secret');
    assert.match(await imap.command('a2', 'SELECT INBOX'), /^\* 3 EXISTS/mu);
    const port = lab.mra.pop3[0]?.port ?? 0;
    const out = await poplib(port, String.raw`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user('bob@beta.test'); p.pass_('secret')
print(len(p.retr(1)[1]) > 0)
p.dele(2)
p.quit()
`);
    assert.equal(out.trim(), 'True');
    const noop = await imap.command('a3', 'NOOP');
    assert.match(noop, /^\* 2 EXPUNGE/mu);
    assert.match(await imap.command('a4', 'UID FETCH 1:* (UID)'), /^\* 1 FETCH \(UID 1\)\r\n\* 2 FETCH \(UID 3\)\r\n/mu);
    imap.close();
  });

  it('POP3 lists the IMAP INBOX in UID order, and an IMAP expunge is gone from the next POP3 session', async () => {
    const maildir = lab.maildir('carol@beta.test');
    for (const subject of ['same one', 'same two', 'same three']) await deliver(maildir, sampleMessage(subject));
    const imap = await RawImap.open(lab.imapPort);
    await imap.command('b1', 'LOGIN carol@beta.test secret');
    assert.match(await imap.command('b2', 'SELECT INBOX'), /^\* 3 EXISTS/mu);
    const port = lab.mra.pop3[0]?.port ?? 0;
    const script = String.raw`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user('carol@beta.test'); p.pass_('secret')
for line in p.uidl()[1]:
    n, uidl = line.decode().split(' ')
    subject = [l for l in p.top(int(n), 0)[1] if l.startswith(b'Subject:')][0].decode()
    print(uidl, subject)
p.quit()
`;
    const before = (await poplib(port, script)).trim().split('\n');
    assert.deepEqual(before.map((line) => line.split(' ').slice(1).join(' ')), ['Subject: same one', 'Subject: same two', 'Subject: same three']);
    await imap.command('b3', 'UID STORE 2 +FLAGS (\\Deleted)');
    assert.match(await imap.command('b4', 'EXPUNGE'), /^\* 2 EXPUNGE/mu);
    const afterExpunge = (await poplib(port, script)).trim().split('\n');
    assert.deepEqual(afterExpunge, [before[0], before[2]], 'same UIDLs for the same messages, without the expunged one');
    imap.close();
  });
});
