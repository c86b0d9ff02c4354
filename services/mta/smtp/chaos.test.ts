import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChaosControl } from './chaos.ts';

describe('ChaosControl', () => {
  it('is off by default', () => {
    const chaos = new ChaosControl();
    assert.deepEqual(chaos.list(), []);
    assert.equal(chaos.action('rcpt'), undefined);
  });

  it('answers a rule until it expires, one rule per stage', () => {
    let now = 1_000;
    const chaos = new ChaosControl({ now: () => now });
    chaos.set({ stage: 'rcpt', code: 451, durationMs: 500 });
    chaos.set({ stage: 'rcpt', code: 550, enhanced: '5.7.1', message: 'no', durationMs: 500 });
    assert.deepEqual(chaos.action('rcpt'), { delayMs: 0, reply: { code: 550, enhanced: '5.7.1', text: 'no' } });
    assert.equal(chaos.list().length, 1);
    now = 1_500;
    assert.equal(chaos.action('rcpt'), undefined);
  });

  it('derives the enhanced code and supports delay-only rules', () => {
    const chaos = new ChaosControl();
    chaos.set({ stage: 'data', code: 421 });
    assert.equal(chaos.action('data')?.reply?.enhanced, '4.0.0');
    chaos.set({ stage: 'mail', delayMs: 2000 });
    assert.deepEqual(chaos.action('mail'), { delayMs: 2000 });
  });

  it('refuses invalid rules', () => {
    const chaos = new ChaosControl();
    assert.throws(() => chaos.set({ stage: 'quit', code: 421 }));
    assert.throws(() => chaos.set({ stage: 'rcpt', code: 250 }));
    assert.throws(() => chaos.set({ stage: 'rcpt' }));
    assert.throws(() => chaos.set({ stage: 'rcpt', code: 451, enhanced: '5.7.1' }));
    assert.throws(() => chaos.set({ stage: 'rcpt', code: 451, message: 'a\r\n250 ok' }));
  });
});
