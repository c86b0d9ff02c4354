import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TransactionLog } from './transaction-log.ts';

const dirs: string[] = [];
async function logPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mxlab-txlog-'));
  dirs.push(dir);
  return join(dir, 'transactions.log');
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('TransactionLog', () => {
  it('remembers keys across a reopen, with the reply and the pending step', async () => {
    const path = await logPath();
    const log = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 100 });
    await log.remember([{ key: 'mx.alpha.test/Q1/bob@beta.test', reply: '2.0.0 Ok: queued as A1' }]);
    await log.remember([{ key: 'k2', reply: 'r2', pending: { from: '/tmp/x', to: '/new/x' } }]);
    await log.close();
    const again = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 100 });
    assert.equal(again.get('mx.alpha.test/Q1/bob@beta.test')?.reply, '2.0.0 Ok: queued as A1');
    assert.deepEqual(again.get('k2')?.pending, { from: '/tmp/x', to: '/new/x' });
    assert.deepEqual(again.pendingEntries().map(([key]) => key), ['k2']);
    assert.equal(again.get('unknown'), undefined);
    await again.close();
  });

  it('forgets keys older than the window', async () => {
    const path = await logPath();
    let now = 1_000_000;
    const log = await TransactionLog.open({ path, windowMs: 10_000, maxEntries: 100, now: () => now });
    await log.remember([{ key: 'old', reply: 'r' }]);
    now += 5_000;
    await log.remember([{ key: 'young', reply: 'r' }]);
    now += 6_000;
    assert.equal(log.get('old'), undefined);
    assert.ok(log.get('young'));
    await log.close();
    const again = await TransactionLog.open({ path, windowMs: 10_000, maxEntries: 100, now: () => now });
    assert.equal(again.size, 1);
    await again.close();
  });

  it('is bounded: past maxEntries the oldest go first', async () => {
    const path = await logPath();
    const log = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) await log.remember([{ key, reply: key }]);
    assert.equal(log.size, 3);
    assert.equal(log.get('a'), undefined);
    assert.ok(log.get('d'));
    await log.close();
  });

  it('ignores a line torn by a crash', async () => {
    const path = await logPath();
    const log = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 100 });
    await log.remember([{ key: 'whole', reply: 'r' }]);
    await log.close();
    await appendFile(path, '{"k":"torn","t":1');
    const again = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 100 });
    assert.ok(again.get('whole'));
    assert.equal(again.get('torn'), undefined);
    await again.remember([{ key: 'after', reply: 'r' }]);
    await again.close();
    const third = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 100 });
    assert.ok(third.get('after'), 'an append after a torn line is read back');
    await third.close();
  });

  it('shares one fsync among appends that arrive together, and keeps them all', async () => {
    const path = await logPath();
    const log = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 1000 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.remember([{ key: `k${i}`, reply: `r${i}` }])));
    await log.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 50);
  });

  it('rewrites a mostly expired file at open', async () => {
    const path = await logPath();
    let now = 1_000_000;
    const log = await TransactionLog.open({ path, windowMs: 1_000, maxEntries: 100_000, now: () => now });
    await log.remember(Array.from({ length: 12_000 }, (_, i) => ({ key: `old${i}`, reply: 'r' })));
    now += 2_000;
    await log.remember([{ key: 'live', reply: 'r' }]);
    await log.close();
    const again = await TransactionLog.open({ path, windowMs: 1_000, maxEntries: 100_000, now: () => now });
    await again.close();
    assert.equal((await readFile(path, 'utf8')).trim().split('\n').length, 1);
  });

  it('runs work on the same key one at a time', async () => {
    const path = await logPath();
    const log = await TransactionLog.open({ path, windowMs: 60_000, maxEntries: 100 });
    const order: string[] = [];
    let release!: () => void;
    const first = log.exclusive(['k'], async () => {
      order.push('first start');
      await new Promise<void>((resolve) => (release = resolve));
      order.push('first end');
    });
    const second = log.exclusive(['k'], async () => {
      order.push('second');
    });
    const other = log.exclusive(['other'], async () => {
      order.push('other');
    });
    await other;
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first start', 'other', 'first end', 'second']);
    await log.close();
  });
});
