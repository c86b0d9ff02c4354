import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLogger } from '../../../shared/log.ts';
import { Spool } from './spool.ts';
import { isQueueId, newQueueId, type EnqueueRequest } from './types.ts';

const logger = createLogger('test');

function request(overrides: Partial<EnqueueRequest> = {}): EnqueueRequest {
  return {
    mailFrom: 'alice@alpha.test',
    rcptTo: ['bob@beta.test', 'carol@beta.test'],
    message: Buffer.from('Subject: hi\r\nMessage-ID: <m1@alpha.test>\r\n\r\nhello\r\n'),
    messageId: '<m1@alpha.test>',
    source: 'submission',
    clientAddress: '127.0.0.1',
    ...overrides,
  };
}

describe('spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes time-ordered ids that are safe file names', () => {
    const a = newQueueId(1000);
    const b = newQueueId(2000);
    assert.ok(isQueueId(a) && isQueueId(b));
    assert.ok(a < b);
    assert.equal(isQueueId('../etc'), false);
  });

  it('keeps a message, its recipients and their state across a reopen', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(request({ rcptTo: ['bob@beta.test', 'bob@beta.test', 'carol@beta.test'] }));
    assert.equal(await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'delivered', attempts: 1, lastReply: '250 ok' }), true);

    const reopened = await Spool.open({ dir, logger });
    const entry = reopened.get(queueId);
    assert.ok(entry);
    assert.equal(entry.mailFrom, 'alice@alpha.test');
    assert.equal(entry.messageId, '<m1@alpha.test>');
    assert.deepEqual(
      entry.recipients.map((state) => [state.recipient, state.status, state.attempts]),
      [
        ['bob@beta.test', 'delivered', 1],
        ['carol@beta.test', 'pending', 0],
      ],
    );
    assert.deepEqual(await reopened.readMessage(queueId), request().message);
  });

  it('uses the queue id chosen by the caller and refuses a bad one', async () => {
    const spool = await Spool.open({ dir, logger });
    const chosen = newQueueId();
    assert.deepEqual(await spool.enqueue(request({ queueId: chosen })), { queueId: chosen });
    await assert.rejects(spool.enqueue(request({ queueId: chosen })), /already queued/);
    await assert.rejects(spool.enqueue(request({ queueId: '../../x' })), /invalid queue id/);
  });

  it('discards half-built messages and half-written state files at start', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(request());
    const half = newQueueId();
    await writeFile(join(dir, 'incoming', `${half}.msg`), 'MXQ1 {"meta":');
    await writeFile(join(dir, 'active', `.${queueId}.state.abcd.tmp`), '[{"recipient":');

    const reopened = await Spool.open({ dir, logger });
    assert.deepEqual(reopened.list().map((entry) => entry.queueId), [queueId]);
    assert.deepEqual(await readdir(join(dir, 'incoming')), []);
    assert.deepEqual(await readdir(join(dir, 'active')), [`${queueId}.msg`]);
    assert.deepEqual(await reopened.readMessage(queueId), request().message);
  });

  it('moves an unreadable entry aside instead of delivering it', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(request());
    await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'deferred', attempts: 1 });
    const path = join(dir, 'active', `${queueId}.msg`);
    await truncate(path, (await stat(path)).size - 3);
    const reopened = await Spool.open({ dir, logger });
    assert.equal(reopened.size, 0);
    assert.equal((await readdir(join(dir, 'corrupt'))).length, 2);
    assert.deepEqual(await readdir(join(dir, 'active')), []);
  });

  it('removes a message for good and tells listeners about new ones', async () => {
    const spool = await Spool.open({ dir, logger });
    const seen: string[] = [];
    const unsubscribe = spool.onEnqueue((id) => seen.push(id));
    const { queueId } = await spool.enqueue(request());
    unsubscribe();
    assert.deepEqual(seen, [queueId]);
    assert.equal(await spool.remove(queueId, 'deleted'), true);
    assert.equal(await spool.remove(queueId, 'deleted'), false);
    assert.equal(await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'delivered' }), false);
    assert.equal((await Spool.open({ dir, logger })).size, 0);
  });

  it('reuses the file of a finished message for a later one, leaving nothing of the old bytes', async () => {
    const spool = await Spool.open({ dir, logger });
    const long = Buffer.from(`Subject: long\r\nMessage-ID: <long@alpha.test>\r\n\r\n${'old bytes '.repeat(500)}\r\n`);
    const first = await spool.enqueue(request({ rcptTo: ['bob@beta.test'], message: long, messageId: '<long@alpha.test>' }));
    const path = join(dir, 'active', `${first.queueId}.msg`);
    const inode = (await stat(path)).ino;
    await spool.updateRecipient(first.queueId, 'bob@beta.test', { status: 'delivered', attempts: 1 });
    await spool.remove(first.queueId, 'done');
    assert.deepEqual(await readdir(join(dir, 'active')), [], 'gone from active/ as soon as it is done');
    assert.equal((await readdir(join(dir, 'free'))).length, 1);

    const second = await spool.enqueue(request());
    const reused = join(dir, 'active', `${second.queueId}.msg`);
    assert.equal((await stat(reused)).ino, inode, 'the same file, overwritten');
    assert.deepEqual(await readdir(join(dir, 'free')), []);
    const reopened = await Spool.open({ dir, logger });
    assert.deepEqual(reopened.list().map((entry) => entry.queueId), [second.queueId]);
    assert.equal(reopened.get(second.queueId)?.messageId, '<m1@alpha.test>');
    assert.deepEqual(await reopened.readMessage(second.queueId), request().message, 'cut to the new length: no tail of the old message');
  });

  it('empties free/ at start: what waits there for reuse is never a message', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(request({ rcptTo: ['bob@beta.test'] }));
    await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'delivered', attempts: 1 });
    await spool.remove(queueId, 'done');
    await writeFile(join(dir, 'free', 'half-rewritten'), 'MXQ1 {"meta":');
    const reopened = await Spool.open({ dir, logger });
    assert.equal(reopened.size, 0);
    assert.deepEqual(await readdir(join(dir, 'free')), []);
    assert.deepEqual(await readdir(join(dir, 'corrupt')), []);
  });
});
