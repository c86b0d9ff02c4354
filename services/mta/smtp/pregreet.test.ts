import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PregreetCache } from './pregreet.ts';

describe('PregreetCache (postscreen greet test and its TTL)', () => {
  it('makes a new address wait, and greets it at once after it passed', () => {
    const cache = new PregreetCache({ waitMs: 300 });
    assert.equal(cache.waitFor('192.0.2.1'), 300);
    cache.pass('192.0.2.1');
    assert.equal(cache.waitFor('192.0.2.1'), 0);
    assert.equal(cache.waitFor('192.0.2.2'), 300, 'another address is still tested');
    assert.equal(cache.waitFor(undefined), 300, 'an unknown peer is tested');
  });

  it('forgets a pass after the TTL, and at once when the address talks early', () => {
    let now = 1_000;
    const cache = new PregreetCache({ waitMs: 300, ttlMs: 100, now: () => now });
    cache.pass('192.0.2.1');
    now += 99;
    assert.equal(cache.waitFor('192.0.2.1'), 0);
    now += 1;
    assert.equal(cache.waitFor('192.0.2.1'), 300);
    cache.pass('192.0.2.1');
    cache.fail('192.0.2.1');
    assert.equal(cache.waitFor('192.0.2.1'), 300);
  });

  it('keeps at most maxAddresses passes, forgetting the oldest first', () => {
    const cache = new PregreetCache({ waitMs: 300, maxAddresses: 2 });
    cache.pass('192.0.2.1');
    cache.pass('192.0.2.2');
    cache.pass('192.0.2.1');
    cache.pass('192.0.2.3');
    assert.equal(cache.waitFor('192.0.2.2'), 300);
    assert.equal(cache.waitFor('192.0.2.1'), 0);
    assert.equal(cache.waitFor('192.0.2.3'), 0);
  });

  it('waits for nobody when the test is off (0), with a TTL of 0 testing every connection', () => {
    const off = new PregreetCache({ waitMs: 0 });
    assert.equal(off.waitFor('192.0.2.1'), 0);
    const noMemory = new PregreetCache({ waitMs: 300, ttlMs: 0 });
    noMemory.pass('192.0.2.1');
    assert.equal(noMemory.waitFor('192.0.2.1'), 300);
  });
});
