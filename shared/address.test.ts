import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress } from './address.ts';

describe('parseAddress', () => {
  it('lower-cases the domain and keys on a lower-cased local part', () => {
    const result = parseAddress('Alice@ALPHA.Test');
    assert.ok(result.ok);
    assert.equal(result.address.local, 'Alice');
    assert.equal(result.address.domain, 'alpha.test');
    assert.equal(result.address.canonical, 'alice@alpha.test');
  });

  it('accepts angle brackets and quoted local parts', () => {
    const result = parseAddress('<"john smith"@beta.test>');
    assert.ok(result.ok);
    assert.equal(result.address.local, 'john smith');
  });

  it('turns an IDN into punycode', () => {
    const result = parseAddress('bob@bücher.test');
    assert.ok(result.ok);
    assert.equal(result.address.domain, 'xn--bcher-kva.test');
  });

  for (const bad of [
    '../../etc/passwd@alpha.test',
    '"../x"@alpha.test',
    '"a/b"@alpha.test',
    '"a\u0000b"@alpha.test',
    'a\r\nb@alpha.test',
    '".hidden"@alpha.test',
    'a..b@alpha.test',
    '"a\\\\b"@alpha.test',
    'alice@alpha.test/..',
    'alice@[127.0.0.1]',
    'alice@',
    '@alpha.test',
    'alice',
    `${'a'.repeat(65)}@alpha.test`,
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.equal(parseAddress(bad).ok, false);
    });
  }
});
