import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientList } from './client-list.ts';

describe('client lists', () => {
  it('matches addresses, ranges and IPv4-mapped IPv6 clients', () => {
    const list = parseClientList(['172.28.0.10', '127.0.0.0/8', '::1']);
    assert.ok(typeof list !== 'string');
    assert.ok(list.allows('172.28.0.10'));
    assert.ok(list.allows('::ffff:172.28.0.10'));
    assert.ok(list.allows('127.5.6.7'));
    assert.ok(list.allows('::1'));
    assert.ok(!list.allows('172.28.0.11'));
    assert.ok(!list.allows('::2'));
    assert.ok(!list.allows(undefined));
    assert.ok(!list.allows('not-an-address'));
  });

  it('names an entry that is no address', () => {
    assert.match(String(parseClientList(['mx.alpha.test'])), /"mx\.alpha\.test" is not an address/u);
    assert.match(String(parseClientList(['10.0.0.0/33'])), /not an address or a CIDR range/u);
  });
});
