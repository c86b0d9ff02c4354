import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile, perSecond, summarize } from './stats.ts';

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile([7], 99), 7);
  });

  it('is NaN for no samples', () => {
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

describe('summarize', () => {
  it('sorts numerically, not as text', () => {
    const summary = summarize([100, 9, 20, 3]);
    assert.equal(summary.p50Ms, 9);
    assert.equal(summary.maxMs, 100);
    assert.equal(summary.meanMs, 33);
    assert.equal(summary.count, 4);
  });
});

describe('perSecond', () => {
  it('scales by the duration', () => {
    assert.equal(perSecond(500, 2000), 250);
    assert.ok(Number.isNaN(perSecond(1, 0)));
  });
});
