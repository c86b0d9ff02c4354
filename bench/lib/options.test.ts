import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions } from './options.ts';

describe('parseOptions', () => {
  it('has the issue defaults', () => {
    const options = parseOptions([]);
    assert.deepEqual(options.only, ['ingest', 'submission', 'imap', 'pop3', 'scale', 'parity', 'labstart']);
    assert.equal(options.n, 2000);
    assert.equal(options.c, 20);
    assert.equal(options.k, 8);
    assert.equal(options.t, 20);
    assert.equal(options.scale, 100_000);
    assert.equal(options.target, 'lab');
  });

  it('reads the documented flags', () => {
    const options = parseOptions(['--only', 'ingest,imap', '--n', '50', '--c', '3', '--target', 'compose', '--scale', '1000']);
    assert.deepEqual(options.only, ['ingest', 'imap']);
    assert.equal(options.n, 50);
    assert.equal(options.c, 3);
    assert.equal(options.target, 'compose');
    assert.equal(options.scale, 1000);
  });

  it('refuses unknown scenarios, bad numbers and unknown flags', () => {
    assert.throws(() => parseOptions(['--only', 'smtp']), /unknown scenario/u);
    assert.throws(() => parseOptions(['--n', '0']), /positive integer/u);
    assert.throws(() => parseOptions(['--n', '1.5']), /positive integer/u);
    assert.throws(() => parseOptions(['--target', 'k8s']), /lab or compose/u);
    assert.throws(() => parseOptions(['--fast']));
  });
});
