import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFields, readHeader } from '../../shared/message/headers.ts';
import { deliveryHeaders, withCrlf, isSpamFlagged, messageIdOf, queueIdOf } from './headers.ts';

const message = Buffer.from(
  [
    'Received: from mx1.beta.test (mx1.beta.test [127.28.0.20])',
    '\tby mx1.beta.test (mxlab beta-mx1) with ESMTP id Q7abc123;',
    '\tMon, 23 Nov 2026 16:00:00 +0000',
    'Received: from earlier by mx.alpha.test with ESMTPSA id OLDER',
    'X-Spam-Flag: YES',
    'Message-ID: <m1@alpha.test>',
    'Subject: x',
    '',
    'X-Spam-Flag: YES in the body does not count',
    '',
  ].join('\r\n'),
);

describe('MDA header reading', () => {
  it('finds the header section and unfolds fields', () => {
    const fields = readHeader(message);
    assert.equal(fields.length, 5);
    assert.match(fields[0]?.value ?? '', /^from mx1\.beta\.test .* id Q7abc123; Mon/u);
  });

  it('reads the spam flag, Message-ID and the top Received id', () => {
    const fields = readHeader(message);
    assert.equal(isSpamFlagged(fields), true);
    assert.equal(messageIdOf(fields), '<m1@alpha.test>');
    assert.equal(queueIdOf(fields), 'Q7abc123');
  });

  it('ignores a spam flag in the body or set to NO', () => {
    const body = readHeader(Buffer.from('Subject: x\n\nX-Spam-Flag: YES\n'));
    assert.equal(isSpamFlagged(body), false);
    assert.equal(isSpamFlagged(parseFields('X-Spam-Flag: NO')), false);
    assert.equal(isSpamFlagged(parseFields('x-spam-flag:   yes')), true);
    assert.equal(isSpamFlagged(parseFields('X-Spam-Flag: NO\r\nX-Mxlab-Quarantine: From domain beta.test fails DMARC')), true);
    assert.equal(queueIdOf(body), undefined);
  });

  it('writes Return-Path and Delivered-To without header injection', () => {
    const text = deliveryHeaders({ mailFrom: 'a@b.test\r\nBcc: x', deliveredTo: 'bob@beta.test', received: 'Received: x\r\n' }).toString();
    assert.equal(text, 'Return-Path: <a@b.testBcc: x>\r\nDelivered-To: bob@beta.test\r\nReceived: x\r\n');
    assert.equal(deliveryHeaders({ mailFrom: '', deliveredTo: 'b@c.test', received: '' }).toString().split('\r\n')[0], 'Return-Path: <>');
  });

  it('stores CRLF line ends, turning bare LF into CRLF', () => {
    const crlf = Buffer.from('a\r\nb\r\n');
    assert.equal(withCrlf(crlf), crlf, 'unchanged buffer when already CRLF');
    assert.equal(withCrlf(Buffer.from('a\nb\r\n\nc')).toString(), 'a\r\nb\r\n\r\nc');
    assert.equal(withCrlf(Buffer.from('\n')).toString(), '\r\n');
  });
});
