import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachingAuthResolver } from './dns.ts';

function failure(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

describe('cachingAuthResolver', () => {
  it('answers again from the cache until the TTL runs out', async () => {
    let now = 0;
    let asked = 0;
    const resolve = cachingAuthResolver(async () => [[`v=spf1 -all #${(asked += 1)}`]], { now: () => now, ttlS: 60 });
    assert.deepEqual(await resolve('alpha.test', 'TXT'), [['v=spf1 -all #1']]);
    assert.deepEqual(await resolve('ALPHA.test', 'TXT'), [['v=spf1 -all #1']]);
    now = 60_001;
    assert.deepEqual(await resolve('alpha.test', 'TXT'), [['v=spf1 -all #2']]);
  });

  it('keeps NXDOMAIN and NODATA, never a timeout or SERVFAIL', async () => {
    const answers = ['ENOTFOUND', 'ETIMEOUT', 'ESERVFAIL'];
    let asked = 0;
    const resolve = cachingAuthResolver(async (name) => {
      asked += 1;
      throw failure(name === 'gone.test' ? 'ENOTFOUND' : (answers[asked] ?? 'ETIMEOUT'));
    });
    for (let i = 0; i < 2; i += 1) await assert.rejects(resolve('gone.test', 'TXT'), { code: 'ENOTFOUND' });
    assert.equal(asked, 1);
    await assert.rejects(resolve('slow.test', 'TXT'), { code: 'ESERVFAIL' });
    await assert.rejects(resolve('slow.test', 'TXT'), { code: 'ETIMEOUT' });
    assert.equal(asked, 3);
  });
});
