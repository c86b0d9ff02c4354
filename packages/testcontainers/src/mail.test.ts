import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { matcher, type LabMessage } from './mail.ts';
import { domainOf } from './world.ts';

async function message(source: string): Promise<LabMessage> {
  return { mailbox: 'bob@beta.test', folder: 'INBOX', uid: 1, source, parsed: await simpleParser(source) };
}

describe('waitForMessage filters', () => {
  it('match every field given, strings exactly and RegExps as tests', async () => {
    const m = await message('From: Alice <alice@alpha.test>\r\nSubject: Hello Bob\r\nMessage-ID: <1@alpha.test>\r\n\r\nHi there\r\n');
    assert.equal(matcher(undefined)(m), true);
    assert.equal(matcher({ subject: 'Hello Bob' })(m), true);
    assert.equal(matcher({ subject: 'Hello' })(m), false);
    assert.equal(matcher({ subject: /^hello/iu, from: 'ALICE@alpha.test' })(m), true);
    assert.equal(matcher({ subject: /^hello/iu, from: 'carol@beta.test' })(m), false);
    assert.equal(matcher({ messageId: '<1@alpha.test>', text: /Hi there/u })(m), true);
    assert.equal(matcher((candidate) => candidate.uid === 2)(m), false);
  });

  it('know the lab domains and name them for any other', () => {
    assert.equal(domainOf('Bob@Beta.Test'), 'beta.test');
    assert.throws(() => domainOf('dave@gamma.test'), /not an address of the lab: its users are @alpha\.test and @beta\.test/u);
  });
});
