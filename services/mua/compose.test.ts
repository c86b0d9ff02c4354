import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { buildMessage, draftFor, parseAddressField, replySubject } from './compose.ts';
import type { MessageView } from './message-view.ts';

function view(extra: Partial<MessageView> = {}): MessageView {
  return {
    subject: 'Lunch',
    from: [{ name: 'Alice', address: 'alice@alpha.test' }],
    to: [{ name: '', address: 'bob@beta.test' }, { name: '', address: 'carol@beta.test' }],
    cc: [{ name: 'Dave', address: 'dave@alpha.test' }],
    replyTo: [],
    date: '2026-11-23T10:00:00.000Z',
    messageId: '<m2@alpha.test>',
    inReplyTo: '<m1@beta.test>',
    references: ['<m0@beta.test>', '<m1@beta.test>'],
    text: 'Friday?\nAt noon.',
    hasHtml: false,
    attachments: [],
    ...extra,
  };
}

describe('reply and forward drafts', () => {
  it('reply: to the author, In-Reply-To the parent, References extended (RFC 5322 §3.6.4)', () => {
    const draft = draftFor(view(), 'reply', ['bob@beta.test']);
    assert.equal(draft.to, 'Alice <alice@alpha.test>');
    assert.equal(draft.cc, '');
    assert.equal(draft.subject, 'Re: Lunch');
    assert.equal(draft.inReplyTo, '<m2@alpha.test>');
    assert.deepEqual(draft.references, ['<m0@beta.test>', '<m1@beta.test>', '<m2@alpha.test>']);
    assert.match(draft.text, /> Friday\?\n> At noon\./u);
  });

  it('reply: References falls back to In-Reply-To when the parent has none', () => {
    const draft = draftFor(view({ references: [] }), 'reply', ['bob@beta.test']);
    assert.deepEqual(draft.references, ['<m1@beta.test>', '<m2@alpha.test>']);
  });

  it('reply all: everyone else in Cc, never myself, no duplicates', () => {
    const draft = draftFor(view(), 'all', ['bob@beta.test']);
    assert.equal(draft.to, 'Alice <alice@alpha.test>');
    assert.equal(draft.cc, 'carol@beta.test, Dave <dave@alpha.test>');
  });

  it('reply to my own sent message goes to its recipients; Reply-To wins over From', () => {
    assert.equal(draftFor(view(), 'reply', ['alice@alpha.test']).to, 'bob@beta.test, carol@beta.test');
    assert.equal(draftFor(view({ replyTo: [{ name: '', address: 'list@alpha.test' }] }), 'reply', []).to, 'list@alpha.test');
  });

  it('forward: Fwd: subject, the original quoted, no threading fields', () => {
    const draft = draftFor(view(), 'forward', ['bob@beta.test']);
    assert.equal(draft.subject, 'Fwd: Lunch');
    assert.equal(draft.inReplyTo, undefined);
    assert.match(draft.text, /Forwarded message[\s\S]*From: Alice <alice@alpha.test>[\s\S]*Friday\?/u);
    assert.equal(replySubject('RE: Re: x'), 'RE: Re: x');
  });
});

describe('outgoing messages', () => {
  it('parses address fields and refuses bad addresses', () => {
    const ok = parseAddressField('Bob <bob@beta.test>, carol@beta.test');
    assert.ok(ok.ok);
    assert.deepEqual(ok.addresses.map((a) => a.address), ['bob@beta.test', 'carol@beta.test']);
    assert.equal(parseAddressField('bob').ok, false);
    assert.equal(parseAddressField('../x@beta.test').ok, false);
  });

  it('builds a message with threading fields and attachments, Bcc left out', async () => {
    const { raw, messageId } = await buildMessage({
      from: { name: '', address: 'bob@beta.test' },
      to: [{ name: 'Alice', address: 'alice@alpha.test' }],
      cc: [],
      bcc: [{ name: '', address: 'carol@beta.test' }],
      subject: 'Re: Lunch',
      text: 'Yes!',
      inReplyTo: '<m2@alpha.test>',
      references: ['<m1@beta.test>', '<m2@alpha.test>'],
      attachments: [{ filename: 'menu.txt', contentType: 'text/plain', content: Buffer.from('soup') }],
    });
    const parsed = await simpleParser(raw);
    assert.equal(parsed.messageId, messageId);
    assert.match(messageId, /@beta\.test>$/u);
    assert.equal(parsed.inReplyTo, '<m2@alpha.test>');
    assert.deepEqual(parsed.references, ['<m1@beta.test>', '<m2@alpha.test>']);
    assert.equal(parsed.attachments[0]?.filename, 'menu.txt');
    assert.ok(!raw.toString().toLowerCase().includes('bcc:'));
    assert.equal(parsed.headers.get('user-agent'), 'mxlab web mail');
  });
});
