/**
 * The real IMAP gateway (imapflow over STARTTLS, lab CA trusted) against the real MRA on
 * port 0: paging newest first, search, flags, move, Trash, APPEND to Sent, and new-mail
 * events from IDLE.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../shared/log.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMraConfig } from '../mra/config.ts';
import { startMra, type RunningMra } from '../mra/server.ts';
import type { Endpoint } from './discovery.ts';
import { AuthFailure, type MailStore, type StoreEvent } from './gateway.ts';
import { imapflowGateway } from './imap-gateway.ts';

const log = createLogger('mua', 'silent');
let dir: string;
let mra: RunningMra;
let endpoint: Endpoint;
let store: MailStore;
let sequence = 0;

async function deliver(subject: string, extra = ''): Promise<void> {
  sequence += 1;
  const maildir = join(dir, 'mail', 'alpha.test', 'alice');
  await mkdir(join(maildir, 'tmp'), { recursive: true });
  await mkdir(join(maildir, 'new'), { recursive: true });
  const name = `${Date.now()}.M${sequence}P${process.pid}.test`;
  const text = `From: Bob <bob@beta.test>\r\nTo: alice@alpha.test\r\nSubject: ${subject}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <m${sequence}@beta.test>\r\n${extra}\r\nBody of ${subject}.\r\n`;
  await writeFile(join(maildir, 'tmp', name), text);
  await writeFile(join(maildir, 'new', name), text);
}

describe('imapflow gateway against the MRA', { timeout: 60_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-mua-imap-'));
    await ensureLabUsers(join(dir, 'users'), 'secret');
    for (let i = 1; i <= 30; i += 1) await deliver(`Message ${i}`);
    await deliver('With a file', 'Content-Type: multipart/mixed; boundary=b\r\nMIME-Version: 1.0\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--');
    const config = loadMraConfig({
      MXLAB_USERS_DIR: join(dir, 'users'),
      MXLAB_TLS_DIR: join(dir, 'tls'),
      MXLAB_MAIL_ROOT: join(dir, 'mail'),
      MRA_DOMAINS: 'alpha.test',
      MRA_HOSTNAME: 'imap.alpha.test',
      MRA_IMAP_LISTEN: '127.0.0.1:0',
      MRA_IMAPS_LISTEN: '',
      MRA_POP3_LISTEN: '',
      MRA_POP3S_LISTEN: '',
      LOG_LEVEL: 'silent',
    });
    mra = await startMra(config, { logger: log, authFailureDelayMs: 10 });
    endpoint = { host: '127.0.0.1', port: mra.imap[0]?.port ?? 0, servername: 'imap.alpha.test', source: 'srv' };
    const gateway = imapflowGateway(() => readFile(join(dir, 'tls', 'ca.crt'), 'utf8'), log);
    store = await gateway.open(endpoint, { user: 'alice@alpha.test', password: 'secret' });
  });

  after(async () => {
    await store?.close();
    await mra?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password as AuthFailure, and a certificate for another name', async () => {
    const gateway = imapflowGateway(() => readFile(join(dir, 'tls', 'ca.crt'), 'utf8'), log);
    await assert.rejects(gateway.open(endpoint, { user: 'alice@alpha.test', password: 'wrong' }), AuthFailure);
    await assert.rejects(gateway.open({ ...endpoint, servername: 'imap.evil.test' }, { user: 'alice@alpha.test', password: 'secret' }), (error: Error) => !(error instanceof AuthFailure));
  });

  it('lists folders with unread counts and special uses', async () => {
    const folders = await store.listFolders();
    const inbox = folders.find((folder) => folder.specialUse === 'inbox');
    assert.equal(inbox?.total, 31);
    assert.equal(inbox?.unread, 31);
    assert.ok(folders.some((folder) => folder.specialUse === 'trash'));
  });

  it('pages newest first and marks attachments', async () => {
    const first = await store.listMessages('INBOX', { page: 1, pageSize: 25 });
    assert.equal(first.total, 31);
    assert.equal(first.messages.length, 25);
    assert.equal(first.messages[0]?.subject, 'With a file');
    assert.equal(first.messages[0]?.hasAttachments, true);
    assert.equal(first.messages[1]?.subject, 'Message 30');
    assert.equal(first.messages[1]?.hasAttachments, false);
    assert.equal(first.messages[0]?.from[0]?.address, 'bob@beta.test');
    const second = await store.listMessages('INBOX', { page: 2, pageSize: 25 });
    assert.deepEqual(second.messages.map((m) => m.subject), ['Message 6', 'Message 5', 'Message 4', 'Message 3', 'Message 2', 'Message 1']);
  });

  it('searches', async () => {
    const found = await store.listMessages('INBOX', { page: 1, pageSize: 25, query: 'Message 1' });
    assert.ok(found.total >= 1);
    assert.ok(found.messages.every((m) => m.subject.startsWith('Message 1')), JSON.stringify(found.messages.map((m) => m.subject)));
  });

  it('sets flags, moves, trashes and appends to Sent', async () => {
    const page = await store.listMessages('INBOX', { page: 1, pageSize: 3 });
    const [a, b] = page.messages;
    assert.ok(a && b);
    await store.setFlag('INBOX', a.uid, '\\Flagged', true);
    await store.setFlag('INBOX', a.uid, '\\Seen', true);
    const again = await store.listMessages('INBOX', { page: 1, pageSize: 3 });
    assert.deepEqual(again.messages[0]?.flags.filter((flag) => flag !== '\\Recent').sort(), ['\\Flagged', '\\Seen']);
    const source = await store.fetchSource('INBOX', a.uid);
    assert.match(source?.toString() ?? '', /Subject: With a file/u);
    await store.trash('INBOX', b.uid);
    assert.equal((await store.listMessages('INBOX', { page: 1, pageSize: 3 })).total, 30);
    const trash = (await store.listFolders()).find((folder) => folder.specialUse === 'trash');
    assert.equal(trash?.total, 1);
    const inTrash = await store.listMessages(trash?.path ?? 'Trash', { page: 1, pageSize: 5 });
    await store.trash(trash?.path ?? 'Trash', inTrash.messages[0]?.uid ?? 0);
    assert.equal((await store.listFolders()).find((folder) => folder.specialUse === 'trash')?.total, 0);
    const sentPath = await store.appendTo('sent', Buffer.from('From: alice@alpha.test\r\nSubject: copy\r\n\r\nhi\r\n'), ['\\Seen']);
    const sent = await store.listMessages(sentPath, { page: 1, pageSize: 5 });
    assert.equal(sent.messages[0]?.subject, 'copy');
    assert.deepEqual(sent.messages[0]?.flags.filter((flag) => flag !== '\\Recent'), ['\\Seen']);
  });

  it('reports new mail in INBOX while idle, even after working in another folder', async () => {
    await store.listMessages('Sent', { page: 1, pageSize: 5 });
    const arrived = new Promise<StoreEvent>((resolve) => {
      const stop = store.onEvent((event) => {
        if (event.type === 'new') {
          stop();
          resolve(event);
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await deliver('Live one');
    const event = await Promise.race([arrived, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000))]);
    assert.deepEqual(event, { type: 'new', folder: 'INBOX', count: 31 });
  });
});
