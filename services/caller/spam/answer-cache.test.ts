import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANSWER_CACHE_MS, DnsUnavailableError, withAnswerCache, type LabDns } from './lab-dns.ts';

describe('withAnswerCache', () => {
  it('asks the lab DNS once per name within the cache time, again after it, and never caches failures', async () => {
    let clock = 0;
    let asked = 0;
    let failNext = false;
    const inner: LabDns = {
      mx: async () => {
        asked += 1;
        if (failNext) {
          failNext = false;
          throw new DnsUnavailableError('down');
        }
        return ['mx.alpha.test'];
      },
      addresses: async () => ['127.28.0.10'],
      txt: async () => ['v=spf1 mx -all'],
    };
    const make = withAnswerCache(() => inner, () => clock);
    const signal = new AbortController().signal;
    assert.deepEqual(await make(signal).mx('alpha.test'), ['mx.alpha.test']);
    assert.deepEqual(await make(signal).mx('alpha.test'), ['mx.alpha.test']);
    assert.equal(asked, 1);
    clock += ANSWER_CACHE_MS + 1;
    failNext = true;
    await assert.rejects(make(signal).mx('alpha.test'), DnsUnavailableError);
    assert.deepEqual(await make(signal).mx('alpha.test'), ['mx.alpha.test']);
    assert.equal(asked, 3);
  });

  it('makes a resolver only for a scan that misses the cache, and one per such scan', async () => {
    let made = 0;
    const inner: LabDns = { mx: async () => ['mx.alpha.test'], addresses: async () => ['127.28.0.10'], txt: async () => [] };
    const make = withAnswerCache(() => {
      made += 1;
      return inner;
    });
    const signal = new AbortController().signal;
    const first = make(signal);
    assert.equal(made, 0);
    await first.mx('alpha.test');
    await first.txt('alpha.test');
    assert.equal(made, 1);
    const second = make(signal);
    await second.mx('alpha.test');
    await second.txt('alpha.test');
    assert.equal(made, 1);
    await second.addresses('alpha.test', 4);
    assert.equal(made, 2);
  });
});
