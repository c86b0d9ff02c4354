import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle } from './auth-throttle.ts';

describe('AuthThrottle', () => {
  it('grows the delay per failure, locks out, and forgets after the lockout', () => {
    let now = 0;
    const throttle = new AuthThrottle({ failureDelayMs: 100, maxFailureDelayMs: 250, lockoutFailures: 3, lockoutMs: 1000, now: () => now });
    assert.deepEqual(throttle.recordFailure('192.0.2.1'), { delayMs: 100, lockedOut: false });
    assert.deepEqual(throttle.recordFailure('192.0.2.1'), { delayMs: 200, lockedOut: false });
    assert.equal(throttle.isLockedOut('192.0.2.1'), false);
    assert.deepEqual(throttle.recordFailure('192.0.2.1'), { delayMs: 250, lockedOut: true });
    assert.equal(throttle.isLockedOut('192.0.2.1'), true);
    assert.equal(throttle.isLockedOut('192.0.2.2'), false);
    now = 1001;
    assert.equal(throttle.isLockedOut('192.0.2.1'), false);
    assert.deepEqual(throttle.recordFailure('192.0.2.1'), { delayMs: 100, lockedOut: false });
  });

  it('clears an address on success', () => {
    const throttle = new AuthThrottle({ failureDelayMs: 100, lockoutFailures: 2 });
    throttle.recordFailure('192.0.2.1');
    throttle.recordSuccess('192.0.2.1');
    assert.equal(throttle.recordFailure('192.0.2.1').lockedOut, false);
  });
});
