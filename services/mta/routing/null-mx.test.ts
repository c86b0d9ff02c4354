import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasNullMx } from './null-mx.ts';
import { scriptedResolver } from '../testing/scripted-resolver.ts';

describe('hasNullMx', () => {
  const resolver = scriptedResolver({
    mx: {
      'null.test': [{ exchange: '', priority: 0 }],
      'dot.test': [{ exchange: '.', priority: 0 }],
      'gamma.test': [{ exchange: 'mx1.gamma.test', priority: 10 }],
      'broken.test': 'ESERVFAIL',
    },
    a: { 'direct.gamma.test': ['127.40.0.33'] },
  });

  it('is true only for a single MX record naming the root', async () => {
    assert.equal(await hasNullMx('null.test', resolver), true);
    assert.equal(await hasNullMx('dot.test', resolver), true);
    assert.equal(await hasNullMx('gamma.test', resolver), false);
  });

  it('is false when there is no MX or DNS fails (delivery decides then)', async () => {
    assert.equal(await hasNullMx('direct.gamma.test', resolver), false);
    assert.equal(await hasNullMx('gone.test', resolver), false);
    assert.equal(await hasNullMx('broken.test', resolver), false);
  });
});
