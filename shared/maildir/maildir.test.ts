import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { deliverToMaildir, storeMessage } from './deliver.ts';
import { ensureMaildir, folderPath, maildirPath, MaildirPathError } from './layout.ts';
import { deliveryOrder, escapeHostname, parseName, secondsInName, sizeInName, sortByDelivery, uniqueName, withInfo } from './names.ts';

describe('Maildir names', () => {
  it('follow <secs>.M<usecs>P<pid>Q<counter>R<random>.<host>', () => {
    const name = uniqueName({ now: new Date(1_700_000_000_123), hostname: 'lmtp.beta.test' });
    assert.match(name, new RegExp(`^1700000000\\.M123\\d{3}P${process.pid}Q\\d+R[0-9a-f]{16}\\.lmtp\\.beta\\.test$`));
  });

  it('are unique within one process and second', () => {
    const now = new Date();
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName({ now, hostname: 'h' })));
    assert.equal(names.size, 1000);
  });

  it('escape / and : in the host name', () => {
    assert.equal(escapeHostname('a/b:c'), 'a\\057b\\072c');
    const name = uniqueName({ hostname: 'evil/host:2,S' });
    assert.ok(!name.includes('/') && !name.includes(':'));
  });

  it('split the unique name from the info and sort flags', () => {
    assert.deepEqual(parseName('123.M1P2Q3R4.h:2,FS'), { unique: '123.M1P2Q3R4.h', info: 'FS' });
    assert.deepEqual(parseName('123.M1P2Q3R4.h'), { unique: '123.M1P2Q3R4.h', info: '' });
    assert.equal(withInfo('u', 'SFS'), 'u:2,FS');
  });

  it('order by delivery time', () => {
    const names = ['20.M5P1Q1R0.h', '10.M900000P1Q1R0.h', '20.M40P1Q1R0.h', '9.M1P1Q1R0.h'];
    assert.deepEqual(names.sort(deliveryOrder), ['9.M1P1Q1R0.h', '10.M900000P1Q1R0.h', '20.M5P1Q1R0.h', '20.M40P1Q1R0.h']);
    const items = ['20.M5P1Q2R0.h', 'odd-name', '20.M5P1Q1R0.h', '1795459500.M7P1Q1R0.h,S=10', '20.M40P1Q1R0.h'].map((name) => ({ name }));
    assert.deepEqual(sortByDelivery(items, (item) => item.name).map((item) => item.name), ['odd-name', '20.M5P1Q1R0.h', '20.M5P1Q2R0.h', '20.M40P1Q1R0.h', '1795459500.M7P1Q1R0.h,S=10']);
    assert.deepEqual(sortByDelivery(items, (item) => item.name), [...items].sort((a, b) => deliveryOrder(a.name, b.name)));
  });

  it('read the size Dovecot-style names carry', () => {
    assert.equal(sizeInName('1.M2P3Q4R5.h,S=1234'), 1234);
    assert.equal(sizeInName('1.M2P3Q4R5.h,S=1234,W=1260'), 1234);
    assert.equal(sizeInName('1.M2P3Q4R5.h'), undefined);
    assert.equal(sizeInName('1.M2P3Q4R5.h,S=12x'), undefined);
  });
});

describe('Maildir paths', () => {
  it('refuse local parts and folders that would leave the root', () => {
    assert.equal(maildirPath('/m', 'beta.test', 'Bob'), '/m/beta.test/bob');
    for (const local of ['..', '../x', 'a/b', 'a\\b', '.x', 'a..b', 'a\u0000b']) {
      assert.throws(() => maildirPath('/m', 'beta.test', local), MaildirPathError, local);
    }
    assert.throws(() => maildirPath('/m', '..', 'bob'), MaildirPathError);
    assert.equal(folderPath('/m/d/u', 'Junk'), '/m/d/u/.Junk');
    assert.equal(folderPath('/m/d/u', '.Junk'), '/m/d/u/.Junk');
    assert.equal(folderPath('/m/d/u', 'INBOX'), '/m/d/u');
    for (const folder of ['..', '../x', 'a/b', '.', 'a..b']) {
      assert.throws(() => folderPath('/m/d/u', folder), MaildirPathError, folder);
    }
  });
});

describe('deliverToMaildir', () => {
  it('creates the Maildir++ with its folders and leaves the message in new/, tmp/ empty', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mxlab-maildir-'));
    const message = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
    const result = await deliverToMaildir({ root, domain: 'beta.test', local: 'bob', message, hostname: 'lmtp.beta.test' });
    const maildir = join(root, 'beta.test', 'bob');
    assert.equal(result.path, join(maildir, 'new', result.uniqueName));
    assert.equal(result.size, message.length);
    assert.equal(sizeInName(result.uniqueName), message.length, 'the name carries the size, as Dovecot writes it');
    assert.deepEqual(await readFile(result.path), message);
    assert.deepEqual(await readdir(join(maildir, 'tmp')), []);
    assert.deepEqual((await readdir(maildir)).sort(), ['.Drafts', '.Junk', '.Sent', '.Trash', 'cur', 'new', 'tmp']);
    for (const folder of ['.Drafts', '.Junk', '.Sent', '.Trash']) {
      assert.deepEqual((await readdir(join(maildir, folder))).sort(), ['cur', 'maildirfolder', 'new', 'tmp']);
    }
    assert.equal(((await stat(result.path)).mode & 0o777).toString(8), '600');
  });

  it('delivers a stream into a folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mxlab-maildir-'));
    await ensureMaildir(root, 'beta.test', 'bob');
    const result = await deliverToMaildir({
      root, domain: 'beta.test', local: 'bob', folder: 'Junk', message: Readable.from([Buffer.from('a\r\n'), Buffer.from('b\r\n')]),
    });
    assert.equal(result.path, join(root, 'beta.test', 'bob', '.Junk', 'new', result.uniqueName));
    assert.equal((await readFile(result.path, 'utf8')), 'a\r\nb\r\n');
    assert.equal(result.size, 6);
  });

  it('makes a folder that does not exist yet, with its maildirfolder file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mxlab-maildir-'));
    await ensureMaildir(root, 'beta.test', 'bob');
    const result = await deliverToMaildir({ root, domain: 'beta.test', local: 'bob', folder: 'Archive.2026', message: Buffer.from('x\r\n') });
    const folder = join(root, 'beta.test', 'bob', '.Archive.2026');
    assert.equal(result.path, join(folder, 'new', result.uniqueName));
    assert.deepEqual((await readdir(folder)).sort(), ['cur', 'maildirfolder', 'new', 'tmp']);
  });

  it('refuses a path-traversal local part before touching the disk', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mxlab-maildir-'));
    await assert.rejects(
      deliverToMaildir({ root, domain: 'beta.test', local: '../../etc', message: Buffer.from('x') }),
      MaildirPathError,
    );
    assert.deepEqual(await readdir(root), []);
  });
});

describe('storeMessage', () => {
  it('puts a message with info in cur/, named after its date, with the size and sorted letters', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mxlab-maildir-'));
    const maildir = await ensureMaildir(root, 'beta.test', 'bob');
    const message = Buffer.from('Subject: x\r\n\r\ny\r\n');
    const stored = await storeMessage({ dir: maildir, message, date: new Date(1_600_000_000_000), info: 'SF' });
    assert.equal(stored.sub, 'cur');
    assert.equal(stored.path, join(maildir, 'cur', stored.file));
    const name = parseName(stored.file);
    assert.deepEqual([name.unique, name.info], [stored.unique, 'FS']);
    assert.equal(sizeInName(name.unique), message.length);
    assert.equal(secondsInName(name.unique), 1_600_000_000);
    assert.deepEqual(await readFile(stored.path), message);
    assert.deepEqual(await readdir(join(maildir, 'tmp')), []);
  });

  it('fails without leaving a file when the folder has no tmp/', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mxlab-maildir-'));
    await assert.rejects(storeMessage({ dir: join(root, 'none'), message: Buffer.from('x') }), { code: 'ENOENT' });
  });
});
