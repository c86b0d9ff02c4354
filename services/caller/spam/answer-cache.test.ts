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
});
