import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { completeSubmittedMessage, headerValue, prependHeaders, splitMessage } from './message.ts';

const buf = (text: string) => Buffer.from(text, 'latin1');

describe('message headers', () => {
  it('finds a header case-insensitively and unfolds it, never in the body', () => {
    const message = buf('Subject: one\r\n two\r\nmessage-id: <a@b>\r\n\r\nDate: not a header\r\n');
    assert.equal(headerValue(message, 'Subject'), 'one two');
    assert.equal(headerValue(message, 'Message-ID'), '<a@b>');
    assert.equal(headerValue(message, 'Date'), undefined);
  });

  it('splits a message without a body', () => {
    assert.deepEqual(splitMessage(buf('A: b\r\n')), { header: 'A: b', rest: buf('\r\n') });
  });

  it('adds Message-ID and Date at the end of the header only when missing', () => {
    const now = new Date(Date.UTC(2026, 10, 23, 16, 0, 0));
    const completed = completeSubmittedMessage(buf('Subject: s\r\n\r\nbody\r\n'), 'mx.alpha.test', now).toString('latin1');
    assert.match(completed, /^Subject: s\r\nMessage-ID: <[\w.]+@mx\.alpha\.test>\r\nDate: Mon, 23 Nov 2026 16:00:00 \+0000\r\n\r\nbody\r\n$/u);
    const full = buf('Date: x\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n');
    assert.equal(completeSubmittedMessage(full, 'mx.alpha.test').toString('latin1'), full.toString('latin1'));
  });

  it('prepends header fields, folded ones as they are', () => {
    const result = prependHeaders(buf('A: b\r\n\r\nx'), ['Received: from x\r\n\tby y; date\r\n', 'X-Spam-Flag: YES']);
    assert.equal(result.toString('latin1'), 'Received: from x\r\n\tby y; date\r\nX-Spam-Flag: YES\r\nA: b\r\n\r\nx');
  });
});
