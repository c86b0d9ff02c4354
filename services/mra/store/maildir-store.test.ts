import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { readHeaderBlock } from './folder-files.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../shared/log.ts';
import { deliver, sampleMessage } from '../testing/harness.ts';
import { MaildirStore } from './maildir-store.ts';
import { checkMailboxName } from './mailbox-names.ts';
import { flagsToInfo, infoToFlags } from '../../../shared/maildir/flags.ts';
import { parseName, secondsInName, sizeInName } from '../../../shared/maildir/names.ts';
import type { MailboxChange } from './types.ts';

const account = { local: 'bob', domain: 'beta.test', address: 'bob@beta.test' };
const logger = createLogger('mra-test');

describe('Maildir names', () => {
  it('maps flags to info letters and back, keywords by letter', () => {
    const keywords: string[] = [];
    const info = flagsToInfo(['\\Seen', '\\Deleted', '$Label1', '\\Answered', '\\Flagged', '\\Draft'], keywords);
    assert.equal(info, 'DFRSTa');
    assert.deepEqual(keywords, ['$Label1']);
    assert.deepEqual(infoToFlags(info, keywords), ['\\Draft', '\\Flagged', '\\Answered', '\\Seen', '\\Deleted', '$Label1']);
    assert.equal(flagsToInfo([], [], 'PS'), 'P');
    const name = parseName('1700000000.M1P2Q3.host,S=42:2,S');
    assert.deepEqual(name, { unique: '1700000000.M1P2Q3.host,S=42', info: 'S' });
    assert.equal(sizeInName(name.unique), 42);
    assert.equal(secondsInName(name.unique), 1700000000);
  });

  it('refuses mailbox names that could leave the Maildir', () => {
    for (const bad of ['../x', 'a/b', '.hidden', 'a..b', 'a.', '', 'x\u0000y', 'tab\there', '~root', 'a\\b', 'caf\u00e9', '*', 'x'.repeat(300)]) {
      assert.equal(checkMailboxName(bad).ok, false, JSON.stringify(bad));
    }
    assert.deepEqual(checkMailboxName('inbox'), { ok: true, name: 'INBOX' });
    assert.deepEqual(checkMailboxName('Work.Projects'), { ok: true, name: 'Work.Projects' });
    assert.deepEqual(checkMailboxName('&AOk-t&AOk-'), { ok: true, name: '&AOk-t&AOk-' });
  });
});

describe('header block reads', () => {
  it('stops at the blank line, for CRLF, LF, long and body-less messages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-header-'));
    try {
      const cases: Array<[string, string]> = [
        ['Subject: a\r\nFrom: b\r\n\r\nbody\r\n', 'Subject: a\r\nFrom: b\r\n\r\n'],
        ['Subject: a\nFrom: b\n\nbody\n', 'Subject: a\r\nFrom: b\r\n\r\n'],
        ['Subject: only header\r\n', 'Subject: only header\r\n'],
        ['\r\nbody only', '\r\n'],
        [`X-Long: ${'x'.repeat(40_000)}\r\n\r\nbody`, `X-Long: ${'x'.repeat(40_000)}\r\n\r\n`],
      ];
      for (const [i, [text, expected]] of cases.entries()) {
        await writeFile(join(dir, String(i)), text);
        assert.equal((await readHeaderBlock(join(dir, String(i)))).toString(), expected, `case ${i}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Maildir++ store', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mxlab-store-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('gives new files UIDs in delivery order (seconds, then unpadded microseconds), not name order', async () => {
    const store = new MaildirStore(root, logger);
    const user = await store.forUser({ local: 'order', domain: 'beta.test', address: 'order@beta.test' });
    const maildir = join(root, 'beta.test', 'order');
    const names = ['1700000001.M5P1Q4.h', '1700000000.M102000P1Q3.h', '1700000000.M98000P1Q2.h', '1700000000.M7000P1Q1.h', 'odd-name'];
    for (const name of names) await writeFile(join(maildir, 'new', name), sampleMessage(name));
    const box = await user.open('INBOX');
    const order = await Promise.all(box.messages().map(async (m) => /Subject: (\S+)/u.exec((await box.readHeader(m.uid)).toString())?.[1]));
    assert.deepEqual(order, ['odd-name', '1700000000.M7000P1Q1.h', '1700000000.M98000P1Q2.h', '1700000000.M102000P1Q3.h', '1700000001.M5P1Q4.h']);
    await box.release();
    await store.close();
  });

  it('shares one load among sessions that open a new folder at once: one UIDVALIDITY, one \\Recent claim', async () => {
    const store = new MaildirStore(root, logger);
    const user = await store.forUser({ local: 'together', domain: 'beta.test', address: 'together@beta.test' });
    await deliver(join(root, 'beta.test', 'together'), sampleMessage('new one'));
    // Ten sessions SELECT the INBOX nobody opened yet in the same tick (imaptest's clients=10 at start).
    const boxes = await Promise.all(Array.from({ length: 10 }, () => user.open('INBOX')));
    assert.deepEqual(new Set(boxes.map((box) => box.uidValidity)).size, 1, 'every session sees the same UIDVALIDITY');
    assert.deepEqual(boxes.map((box) => box.claimRecent().size).sort(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 'the new message is \\Recent in one session only');
    const again = await (await new MaildirStore(root, logger).forUser({ local: 'together', domain: 'beta.test', address: 'together@beta.test' })).open('INBOX');
    assert.equal(again.uidValidity, boxes[0]?.uidValidity, 'and the index on disk holds it');
    await again.release();
    for (const box of boxes) await box.release();
    await store.close();
  });

  it('creates the standard folders and keeps UIDs across reopen, renames and deliveries', async () => {
    const store = new MaildirStore(root, logger);
    const user = await store.forUser(account);
    const maildir = join(root, 'beta.test', 'bob');
    assert.deepEqual((await user.list()).map((box) => [box.name, box.specialUse ?? '']), [['INBOX', ''], ['Drafts', '\\Drafts'], ['Junk', '\\Junk'], ['Sent', '\\Sent'], ['Trash', '\\Trash']]);
    const first = await deliver(maildir, sampleMessage('one'));
    await deliver(maildir, sampleMessage('two'));
    let box = await user.open('INBOX');
    assert.deepEqual(box.messages().map((m) => m.uid), [1, 2]);
    const validity = box.uidValidity;
    const changes: MailboxChange[] = [];
    box.onChange((change) => changes.push(change));
    // POP3 marks the first message read by renaming it into cur/ with :2,S.
    await rename(join(maildir, 'new', first), join(maildir, 'cur', `${first}:2,S`));
    await deliver(maildir, sampleMessage('three'));
    await box.sync();
    assert.deepEqual(box.messages().map((m) => [m.uid, m.flags.join(' ')]), [[1, '\\Seen'], [2, ''], [3, '']]);
    assert.ok(changes.some((c) => c.flagged.includes(1)) && changes.some((c) => c.added.includes(3)));
    const modseqOfOne = box.get(1)?.modseq ?? 0;
    assert.ok(modseqOfOne > 1);
    await box.release();
    await store.close();

    const again = new MaildirStore(root, logger);
    box = await (await again.forUser(account)).open('INBOX');
    assert.equal(box.uidValidity, validity);
    assert.deepEqual(box.messages().map((m) => m.uid), [1, 2, 3]);
    assert.equal(box.get(1)?.modseq, modseqOfOne);
    assert.equal(box.uidNext(), 4);
    await box.release();
    await again.close();
  });

  it('stores flags and keywords in file names and expunges files deleted by others', async () => {
    const store = new MaildirStore(root, logger);
    const user = await store.forUser(account);
    const maildir = join(root, 'beta.test', 'bob');
    const box = await user.open('INBOX');
    const result = await box.setFlags([2], 'add', ['\\Flagged', '$Work']);
    assert.deepEqual(result.changed.map((c) => c.flags), [['\\Flagged', '$Work']]);
    assert.ok((await readdir(join(maildir, 'cur'))).some((name) => name.endsWith(':2,Fa')));
    assert.equal(await readFile(join(maildir, 'dovecot-keywords'), 'utf8'), '0 $Work\n');
    const stale = await box.setFlags([2], 'remove', ['\\Flagged'], 1);
    assert.deepEqual(stale.modified, [2]);
    const name = (await readdir(join(maildir, 'cur'))).find((file) => file.endsWith(':2,S'));
    assert.ok(name);
    await unlink(join(maildir, 'cur', name));
    await box.sync();
    assert.deepEqual(box.messages().map((m) => m.uid), [2, 3]);
    const content = await box.read(3);
    assert.match(content.toString(), /Subject: three/u);
    assert.equal(await box.size(3), content.length);
    await box.release();
    await store.close();
  });

  it('trusts unchanged directory mtimes after a full listing, and still sees every later change', async () => {
    const store = new MaildirStore(root, logger);
    const carol = await store.forUser({ local: 'carol', domain: 'beta.test', address: 'carol@beta.test' });
    const maildir = join(root, 'beta.test', 'carol');
    await deliver(maildir, sampleMessage('old one'));
    const past = new Date(Date.now() - 60_000);
    for (const sub of ['new', 'cur']) await utimes(join(maildir, sub), past, past);
    let box = await carol.open('INBOX');
    await box.release();
    await store.close();
    const index = JSON.parse(await readFile(join(maildir, 'mxlab-index.json'), 'utf8')) as { dirMtimes: { new: number } | null };
    assert.equal(index.dirMtimes?.new, past.getTime());
    const again = new MaildirStore(root, logger);
    box = await (await again.forUser({ local: 'carol', domain: 'beta.test', address: 'carol@beta.test' })).open('INBOX');
    assert.match((await box.read(1)).toString(), /old one/u);
    await deliver(maildir, sampleMessage('new one'));
    await box.sync();
    assert.deepEqual(box.messages().map((m) => m.uid), [1, 2]);
    await box.release();
    await again.close();
  });

  it('appends, copies with new UIDs, and manages folders', async () => {
    const store = new MaildirStore(root, logger);
    const user = await store.forUser(account);
    const appended = await user.append('Sent', Buffer.from(sampleMessage('sent')), ['\\Seen'], new Date(Date.UTC(2026, 0, 2)));
    assert.equal(appended.uid, 1);
    const box = await user.open('INBOX');
    const copied = await box.copyTo([2, 3], 'Sent');
    assert.deepEqual(copied.uids, [2, 3]);
    await assert.rejects(box.copyTo([2], 'Nope'), { code: 'TRYCREATE' });
    await box.release();
    const sent = await user.status('Sent');
    assert.equal(sent.messages, 3);
    assert.equal(sent.unseen, 2);
    await user.create('Work.Projects');
    assert.deepEqual((await user.list()).filter((b) => b.name.startsWith('Work')).map((b) => [b.name, b.noSelect, b.hasChildren]), [['Work', true, true], ['Work.Projects', false, false]]);
    await assert.rejects(user.create('Work.Projects'), { code: 'ALREADYEXISTS' });
    await user.rename('Work.Projects', 'Archive');
    await user.rename('INBOX', 'Old');
    assert.deepEqual([(await user.status('INBOX')).messages, (await user.status('Old')).messages], [0, 2]);
    await assert.rejects(user.open('../../alpha.test/alice'), { code: 'CANNOT' });
    await assert.rejects(user.delete('INBOX'), { code: 'CANNOT' });
    await user.delete('Archive');
    assert.equal((await user.list()).some((b) => b.name === 'Archive'), false);
    await store.close();
  });
});
