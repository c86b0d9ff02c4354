import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { deliver, sampleMessage, startLab, type Lab } from '../testing/harness.ts';

function client(lab: Lab, user = 'bob@beta.test', options: Partial<ConstructorParameters<typeof ImapFlow>[0]> = {}): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: lab.imapPort,
    secure: false,
    auth: { user, pass: 'secret' },
    logger: false,
    tls: { rejectUnauthorized: false },
    ...options,
  });
}

function waitFor<T>(emitter: ImapFlow, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('IMAP with imapflow', () => {
  let lab: Lab;
  let original: string;
  before(async () => {
    lab = await startLab();
    original = sampleMessage('Hello over IMAP', 'Line one\r\nLine two with caf\u00e9\r\n');
    await deliver(lab.maildir('bob@beta.test'), original);
  });
  after(async () => {
    await lab.close();
  });

  it('logs in with STARTTLS, lists folders with special use, reads envelope and the source byte for byte', async () => {
    const imap = client(lab, 'bob@beta.test', { doSTARTTLS: true, tls: { ca: await readFile(join(lab.config.MXLAB_TLS_DIR, 'ca.crt'), 'utf8'), servername: 'imap.alpha.test' } });
    await imap.connect();
    assert.equal(imap.secureConnection || (imap as unknown as { _socket?: { encrypted?: boolean } })._socket?.encrypted === true, true);
    const folders = await imap.list();
    assert.deepEqual(folders.map((f) => [f.path, f.specialUse ?? '']).sort(), [['Drafts', '\\Drafts'], ['INBOX', '\\Inbox'], ['Junk', '\\Junk'], ['Sent', '\\Sent'], ['Trash', '\\Trash']]);
    const box = await imap.mailboxOpen('INBOX');
    assert.equal(box.exists, 1);
    const message = await imap.fetchOne('1', { envelope: true, source: true, flags: true, uid: true, bodyStructure: true, internalDate: true, size: true });
    assert.ok(message);
    assert.equal(message.envelope?.subject, 'Hello over IMAP');
    assert.deepEqual(message.envelope?.from, [{ name: 'Alice Example', address: 'alice@alpha.test' }]);
    assert.equal(message.source?.toString('utf8'), original);
    assert.equal(message.size, Buffer.byteLength(original));
    assert.equal(message.bodyStructure?.type, 'text/plain');
    assert.equal(message.flags?.has('\\Seen'), false);
    await imap.logout();
  });

  it('flags, searches, appends to Sent and moves to Trash', async () => {
    const imap = client(lab);
    await imap.connect();
    await imap.mailboxOpen('INBOX');
    await deliver(lab.maildir('bob@beta.test'), sampleMessage('Second one', 'needle in the body\r\n'));
    await imap.noop();
    assert.equal(imap.mailbox && imap.mailbox.exists, 2);
    assert.equal(await imap.messageFlagsAdd('1', ['\\Seen', '$Important']), true);
    const flagged = await imap.fetchOne('1', { flags: true });
    assert.ok(flagged && flagged.flags?.has('\\Seen') && flagged.flags.has('$Important'));
    assert.deepEqual(await imap.search({ seen: false }), [2]);
    assert.deepEqual(await imap.search({ body: 'needle' }), [2]);
    assert.deepEqual(await imap.search({ subject: 'hello' }), [1]);
    assert.deepEqual(await imap.search({ keyword: '$Important' }, { uid: true }), [1]);
    assert.deepEqual(await imap.search({ or: [{ subject: 'second' }, { from: 'nobody' }] }), [2]);
    // The web client's own calls: a four-way OR search and LIST with STATUS per folder.
    assert.deepEqual(await imap.search({ or: [{ subject: 'needle' }, { from: 'needle' }, { to: 'needle' }, { body: 'needle' }] }, { uid: true }), [2]);
    const withStatus = await imap.list({ statusQuery: { messages: true, unseen: true } });
    assert.deepEqual(withStatus.find((f) => f.path === 'INBOX')?.status, { path: 'INBOX', messages: 2, unseen: 1 });

    const sent = await imap.append('Sent', sampleMessage('Sent copy'), ['\\Seen'], new Date('2026-01-02T03:04:05Z'));
    assert.ok(sent && sent.uid === 1);
    const status = await imap.status('Sent', { messages: true, unseen: true, uidNext: true });
    assert.ok(status);
    assert.deepEqual([status.messages, status.unseen, status.uidNext], [1, 0, 2]);

    const moved = await imap.messageMove('2', 'Trash', { uid: true });
    assert.ok(moved);
    assert.equal(moved.uidMap?.get(2), 1);
    assert.equal(imap.mailbox && imap.mailbox.exists, 1);
    const trash = await imap.status('Trash', { messages: true });
    assert.ok(trash && trash.messages === 1);
    await imap.messageDelete('1');
    assert.equal(imap.mailbox && imap.mailbox.exists, 0);
    await imap.logout();
  });

  it('IDLE sees a delivery written into new/ by another process', async () => {
    const imap = client(lab, 'bob@beta.test', { autoIdleDelay: 50 });
    await imap.connect();
    await imap.mailboxOpen('INBOX');
    const exists = waitFor<{ count: number; prevCount: number }>(imap, 'exists');
    // imapflow enters IDLE on its own once the connection is quiet.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await deliver(lab.maildir('bob@beta.test'), sampleMessage('Live one'));
    const update = await exists;
    assert.equal(update.count, update.prevCount + 1);
    const message = await imap.fetchOne('*', { envelope: true });
    assert.ok(message);
    assert.equal(message.envelope?.subject, 'Live one');
    await imap.logout();
  });

  it('creates, renames and deletes folders; refuses bad names', async () => {
    const imap = client(lab);
    await imap.connect();
    await imap.mailboxCreate(['Projects', 'Lab']);
    let paths = (await imap.list()).map((f) => f.path);
    assert.ok(paths.includes('Projects.Lab'));
    await imap.mailboxRename('Projects.Lab', 'Archive');
    paths = (await imap.list()).map((f) => f.path);
    assert.ok(paths.includes('Archive') && !paths.includes('Projects.Lab'));
    await imap.mailboxDelete('Archive');
    await assert.rejects(imap.mailboxCreate('../escape'));
    await assert.rejects(imap.mailboxOpen('Nope'));
    await imap.logout();
  });

  it('refuses a wrong password', async () => {
    const imap = client(lab, 'bob@beta.test', { auth: { user: 'bob@beta.test', pass: 'wrong' } });
    await assert.rejects(imap.connect());
    imap.close();
  });
});
