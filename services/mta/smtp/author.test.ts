import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorAddresses, foreignAuthor } from './author.ts';

const msg = (head: string) => Buffer.from(`${head}\r\n\r\nbody\r\n`, 'latin1');
const alice = ['alice@alpha.test', 'postmaster@alpha.test'];

describe('submission author check', () => {
  it('reads every address of From and Sender, folded, quoted and grouped', () => {
    const head = 'From: "Carol, not really" <CAROL@Beta.Test>,\r\n alice@alpha.test\r\nSender: team: alice@alpha.test;\r\nTo: x@y.test';
    assert.deepEqual(authorAddresses(msg(head)), ['carol@beta.test', 'alice@alpha.test', 'alice@alpha.test']);
  });

  it("accepts the login's own addresses and aliases, refuses any other", () => {
    assert.equal(foreignAuthor(msg('From: Alice <alice@alpha.test>\r\nSender: postmaster@alpha.test'), alice), undefined);
    assert.equal(foreignAuthor(msg('Subject: no author fields'), alice), undefined);
    assert.equal(foreignAuthor(msg('From: Alice <alice@alpha.test>\r\nSender: carol@beta.test'), alice), 'carol@beta.test');
    assert.equal(foreignAuthor(msg('from: carol@beta.test'), alice), 'carol@beta.test');
    assert.equal(foreignAuthor(msg('From: alice@alpha.test\r\nFrom: bob@beta.test'), alice), 'bob@beta.test');
    assert.equal(foreignAuthor(msg('From: "alice@alpha.test" <carol@beta.test>'), alice), 'carol@beta.test');
    assert.equal(foreignAuthor(msg('From: Undisclosed:;'), alice), undefined);
  });
});
