import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DnsCache, fromCache } from './dns-cache.ts';
import { NEGATIVE_TTL_S, type MxResolver } from './resolver.ts';
import { scriptedResolver } from '../testing/scripted-resolver.ts';

const failure = (promise: Promise<unknown>) => promise.then(() => assert.fail('expected a DNS error'), (error: unknown) => error as NodeJS.ErrnoException);

describe('DnsCache', () => {
  it('keeps each answer for its own TTL and shows it with the seconds left', async () => {
    let clock = 1_000_000;
    const inner = scriptedResolver({
      mx: { 'gamma.test': [{ exchange: 'mx1.gamma.test', priority: 10, ttl: 30 }, { exchange: 'mx2.gamma.test', priority: 20, ttl: 30 }] },
      a: { 'mx1.gamma.test': ['127.40.0.30', '127.40.0.31'] },
      ttl: 90,
    });
    const cache = new DnsCache(inner, () => clock);
    await cache.resolveMx('gamma.test');
    await cache.resolve4('MX1.gamma.test.');
    clock += 10_500;
    assert.deepEqual(cache.entries(), [
      { name: 'gamma.test', type: 'MX', result: 'answer', answers: [{ preference: 10, exchange: 'mx1.gamma.test' }, { preference: 20, exchange: 'mx2.gamma.test' }], ttl: 30, secondsLeft: 20 },
      { name: 'mx1.gamma.test', type: 'A', result: 'answer', answers: [{ address: '127.40.0.30' }, { address: '127.40.0.31' }], ttl: 90, secondsLeft: 80 },
    ]);
    assert.equal(fromCache(await cache.resolveMx('gamma.test')), true);
    clock += 19_500;
    // The MX answer's 30 s are over: gone from the view, asked again on the next lookup.
    assert.deepEqual(cache.entries().map((entry) => `${entry.type} ${entry.name}`), ['A mx1.gamma.test']);
    assert.equal(fromCache(await cache.resolveMx('gamma.test')), false);
    assert.deepEqual(inner.queries, ['MX gamma.test', 'A mx1.gamma.test', 'MX gamma.test']);
  });

  it('keeps NXDOMAIN and NODATA for the negative TTL the server gave, else NEGATIVE_TTL_S', async () => {
    let clock = 0;
    const negative = (code: string, negativeTtl?: number) => Object.assign(new Error(code), { code, ...(negativeTtl === undefined ? {} : { negativeTtl }) });
    const inner: MxResolver = {
      resolveMx: (name) => Promise.reject(name === 'gone.test' ? negative('ENOTFOUND', 5) : negative('ENODATA')),
      resolve4: () => Promise.reject(negative('ESERVFAIL')),
      resolve6: () => Promise.reject(negative('ENODATA', 0)),
    };
    const cache = new DnsCache(inner, () => clock);
    assert.equal((await failure(cache.resolveMx('gone.test'))).code, 'ENOTFOUND');
    assert.equal((await failure(cache.resolveMx('direct.gamma.test'))).code, 'ENODATA');
    await failure(cache.resolve4('broken.test'));
    await failure(cache.resolve6('mx1.gamma.test'));
    assert.deepEqual(
      cache.entries().map(({ name, result, secondsLeft, answers }) => ({ name, result, secondsLeft, answers })),
      [
        { name: 'gone.test', result: 'nxdomain', secondsLeft: 5, answers: [] },
        { name: 'direct.gamma.test', result: 'nodata', secondsLeft: NEGATIVE_TTL_S, answers: [] },
      ],
    );
    const cached = await failure(cache.resolveMx('gone.test'));
    assert.equal(cached.code, 'ENOTFOUND');
    assert.equal(fromCache(cached), true);
    clock += 5_000;
    assert.deepEqual(cache.entries().map((entry) => entry.name), ['direct.gamma.test']);
  });

  it('shows a null MX with the root as its exchange', async () => {
    const cache = new DnsCache(scriptedResolver({ mx: { 'null.test': [{ exchange: '', priority: 0, ttl: 60 }] } }));
    await cache.resolveMx('null.test');
    assert.deepEqual(cache.entries()[0]?.answers, [{ preference: 0, exchange: '.' }]);
  });
});
