import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRestartDelay, RESTART_FIRST_DELAY_MS, RESTART_MAX_DELAY_MS, RESTART_STABLE_AFTER_MS } from './restart-policy.ts';

describe('nextRestartDelay', () => {
  it('starts at the first delay', () => {
    assert.equal(nextRestartDelay(undefined, 0), RESTART_FIRST_DELAY_MS);
  });

  it('doubles while the agent keeps dying quickly, up to the maximum', () => {
    const delays: number[] = [];
    let delay: number | undefined;
    for (let i = 0; i < 12; i += 1) delays.push((delay = nextRestartDelay(delay, 100)));
    assert.deepEqual(delays.slice(0, 4), [RESTART_FIRST_DELAY_MS, RESTART_FIRST_DELAY_MS * 2, RESTART_FIRST_DELAY_MS * 4, RESTART_FIRST_DELAY_MS * 8]);
    assert.equal(delays.at(-1), RESTART_MAX_DELAY_MS);
    assert.ok(delays.every((value) => value <= RESTART_MAX_DELAY_MS));
  });

  it('forgets the backoff once the agent ran long enough', () => {
    assert.equal(nextRestartDelay(RESTART_MAX_DELAY_MS, RESTART_STABLE_AFTER_MS), RESTART_FIRST_DELAY_MS);
    assert.equal(nextRestartDelay(4000, RESTART_STABLE_AFTER_MS - 1), 8000);
  });
});
