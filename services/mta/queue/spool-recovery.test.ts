import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLogger } from '../../../shared/log.ts';
import { readSpoolEntries } from './inspect.ts';
import { Spool } from './spool.ts';
import { newQueueId, type MessageMeta, type RecipientState } from './types.ts';

const logger = createLogger('test');
const MESSAGE = Buffer.from('Subject: old\r\nMessage-ID: <old@alpha.test>\r\n\r\nfrom a previous version\r\n');

function state(recipient: string, status: RecipientState['status']): RecipientState {
  return { recipient, status, attempts: status === 'pending' ? 0 : 1, nextAttemptAt: 1000 };
}

/** Writes one message in the spool layout of earlier versions (a directory per message). */
async function writeOldLayout(dir: string, queueId: string, message: Buffer = MESSAGE): Promise<void> {
  const entry = join(dir, 'active', queueId);
  await mkdir(entry, { recursive: true });
  const meta: MessageMeta = { queueId, mailFrom: 'alice@alpha.test', messageId: '<old@alpha.test>', source: 'mx', clientAddress: '127.0.0.1', queuedAt: 1000, size: MESSAGE.length };
  await writeFile(join(entry, 'message.eml'), message);
  await writeFile(join(entry, 'meta.json'), JSON.stringify(meta));
  await writeFile(join(entry, 'rcpt-0000.json'), JSON.stringify(state('bob@beta.test', 'delivered')));
  await writeFile(join(entry, 'rcpt-0001.json'), JSON.stringify(state('carol@beta.test', 'deferred')));
  await writeFile(join(entry, '.rcpt-0001.json.abcd.tmp'), '{"recipient":');
}

function enqueueRequest(rcptTo: string[]) {
  return { mailFrom: 'alice@alpha.test', rcptTo, message: MESSAGE, source: 'mx' as const, clientAddress: '127.0.0.1' };
}

describe('spool recovery', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-spool-recovery-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('moves a message directory of the earlier layout aside to corrupt/, neither loading nor deleting it', async () => {
    const queueId = newQueueId();
    await writeOldLayout(dir, queueId);
    assert.deepEqual(await readSpoolEntries(dir), [], 'the inspector lists spool files only');
    const spool = await Spool.open({ dir, logger });
    assert.equal(spool.size, 0);
    assert.deepEqual(await readdir(join(dir, 'active')), []);
    const [kept] = await readdir(join(dir, 'corrupt'));
    assert.match(kept ?? '', new RegExp(`^${queueId}\\.\\d+$`, 'u'));
    assert.deepEqual(await readFile(join(dir, 'corrupt', kept ?? '', 'message.eml')), MESSAGE, 'its message is still there to read');
  });

  it('keeps recipient states in the .state file and the envelope when there is none', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(enqueueRequest(['bob@beta.test', 'carol@beta.test']));
    const { queueId: untouched } = await spool.enqueue(enqueueRequest(['dave@beta.test']));
    await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'delivered', attempts: 1 });
    await spool.updateRecipient(queueId, 'carol@beta.test', { status: 'deferred', attempts: 1, nextAttemptAt: 5000 });
    assert.deepEqual((await readdir(join(dir, 'active'))).sort(), [`${queueId}.msg`, `${queueId}.state`, `${untouched}.msg`].sort());

    const reopened = await Spool.open({ dir, logger });
    assert.deepEqual(reopened.get(queueId)?.recipients.map((s) => [s.status, s.nextAttemptAt]), [['delivered', spool.get(queueId)?.recipients[0]?.nextAttemptAt], ['deferred', 5000]]);
    assert.deepEqual(reopened.get(untouched)?.recipients.map((s) => s.status), ['pending']);
    assert.deepEqual((await readSpoolEntries(dir)).find((entry) => entry.queueId === queueId)?.recipients.map((s) => s.status), ['delivered', 'deferred']);
  });

  it('deletes a .state file whose message is gone (a crash between the two unlinks)', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(enqueueRequest(['bob@beta.test', 'carol@beta.test']));
    await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'delivered', attempts: 1 });
    await unlink(join(dir, 'active', `${queueId}.msg`));
    const reopened = await Spool.open({ dir, logger });
    assert.equal(reopened.size, 0);
    assert.deepEqual(await readdir(join(dir, 'active')), []);
  });

  it('removes the files once every recipient is final, before remove() drops it from memory', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(enqueueRequest(['bob@beta.test', 'carol@beta.test']));
    await Promise.all([
      spool.updateRecipient(queueId, 'bob@beta.test', { status: 'delivered' }),
      spool.updateRecipient(queueId, 'carol@beta.test', { status: 'failed' }),
    ]);
    assert.deepEqual(await readdir(join(dir, 'active')), []);
    assert.deepEqual(spool.get(queueId)?.recipients.map((s) => s.status), ['delivered', 'failed']);
    await assert.rejects(spool.readMessage(queueId), /not queued/);
    assert.equal(await spool.remove(queueId, 'done'), true);
    assert.equal(spool.size, 0);
    assert.equal((await Spool.open({ dir, logger })).size, 0);
  });

  it('writes the envelope and the message in one file, the body at a known offset', async () => {
    const spool = await Spool.open({ dir, logger });
    const { queueId } = await spool.enqueue(enqueueRequest(['bob@beta.test']));
    const file = await readFile(join(dir, 'active', `${queueId}.msg`));
    const newline = file.indexOf(0x0a);
    assert.ok(file.subarray(0, newline).toString().startsWith('MXQ1 {'));
    assert.deepEqual(file.subarray(newline + 1), MESSAGE);
    assert.deepEqual(await spool.readMessage(queueId), MESSAGE, 'first read (kept in memory since enqueue)');
    assert.deepEqual(await spool.readMessage(queueId), MESSAGE, 'second read (from the .msg file)');
    const large = Buffer.alloc(300 * 1024, 'y');
    const { queueId: big } = await spool.enqueue({ ...enqueueRequest(['bob@beta.test']), message: large });
    assert.deepEqual(await (await Spool.open({ dir, logger })).readMessage(big), large);
  });
});
