import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecipientState } from '../queue/types.ts';
import { retryDelayMs, DEFAULT_DELIVERY_SETTINGS } from './config.ts';
import { MAX_RCPTS_PER_TRANSACTION, transactions } from './runner.ts';

const state = (recipient: string): RecipientState => ({ recipient, status: 'pending', attempts: 0, nextAttemptAt: 0 });

describe('delivery planning', () => {
  it('groups recipients by domain, at most 100 per transaction', () => {
    const many = Array.from({ length: MAX_RCPTS_PER_TRANSACTION + 1 }, (_, i) => state(`u${i}@beta.test`));
    const groups = transactions([state('alice@alpha.test'), ...many, state('carol@Alpha.test')]);
    assert.deepEqual(
      groups.map(([domain, states]) => [domain, states.length]),
      [
        ['alpha.test', 2],
        ['beta.test', 100],
        ['beta.test', 1],
      ],
    );
  });

  it('backs off exponentially from the first delay up to the ceiling', () => {
    const settings = { ...DEFAULT_DELIVERY_SETTINGS, retryFirstDelayMs: 10_000, retryBackoffFactor: 2, retryMaxDelayMs: 60_000 };
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(settings, n)), [10_000, 20_000, 40_000, 60_000, 60_000]);
  });
});
