import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WireBuffer } from '../wire/wire-buffer.ts';
import { existsCount, imapResponseParser, quoted, statusMessages } from './imap-wire.ts';
import { pop3ReplyParser, uidlLines } from './pop3-wire.ts';
import { dataPayload, smtpReplyParser } from './smtp-wire.ts';

function fed(...chunks: string[]): WireBuffer {
  const buffer = new WireBuffer();
  for (const chunk of chunks) buffer.feed(Buffer.from(chunk, 'latin1'));
  return buffer;
}

describe('WireBuffer', () => {
  it('cuts lines and counted bytes across chunks', () => {
    const buffer = fed('ab', 'c\r', '\nxyz');
    assert.equal(buffer.line(), 'abc');
    assert.equal(buffer.line(), undefined);
    assert.equal(buffer.bytes(4), undefined);
    buffer.feed(Buffer.from('w'));
    assert.equal(buffer.bytes(4)?.toString(), 'xyzw');
    assert.equal(buffer.length, 0);
  });
});

describe('smtpReplyParser', () => {
  it('waits for the last line of a multi-line reply, even across reads', () => {
    const buffer = fed('250-mx.test\r\n250-PIPE');
    const parse = smtpReplyParser();
    assert.equal(parse(buffer), undefined);
    buffer.feed(Buffer.from('LINING\r\n250 8BITMIME\r\n'));
    assert.deepEqual(parse(buffer), { code: 250, lines: ['mx.test', 'PIPELINING', '8BITMIME'] });
  });

  it('refuses garbage', () => {
    assert.throws(() => smtpReplyParser()(fed('hello\r\n')), /not an SMTP reply/u);
  });
});

describe('dataPayload', () => {
  it('uses CRLF, doubles leading dots and ends with the dot line', () => {
    assert.equal(dataPayload(Buffer.from('.a\nb\n.c')).toString(), '..a\r\nb\r\n..c\r\n.\r\n');
  });
});

describe('imapResponseParser', () => {
  it('skips literals, including ones that look like responses, until the tagged completion', () => {
    const literal = 'b1 OK fake\r\n* 9 EXISTS\r\n';
    const buffer = fed(`* 1 FETCH (BODY[] {${literal.length}}\r\n${literal.slice(0, 5)}`);
    const parse = imapResponseParser('b1');
    assert.equal(parse(buffer), undefined);
    buffer.feed(Buffer.from(`${literal.slice(5)})\r\n* 2 EXISTS\r\nb1 OK done\r\n`));
    const completion = parse(buffer);
    assert.equal(completion?.status, 'OK');
    assert.equal(completion?.literalOctets, literal.length);
    assert.deepEqual(completion?.untagged, [`* 1 FETCH (BODY[] {${literal.length}})`, '* 2 EXISTS']);
    assert.equal(existsCount(completion?.untagged ?? []), 2);
  });

  it('reports NO and BAD, and reads STATUS', () => {
    assert.equal(imapResponseParser('x')(fed('x NO [AUTHENTICATIONFAILED] no\r\n'))?.status, 'NO');
    assert.equal(statusMessages(['* STATUS INBOX (UIDNEXT 5 MESSAGES 4)']), 4);
    assert.equal(quoted('a"b\\'), '"a\\"b\\\\"');
  });
});

describe('pop3ReplyParser', () => {
  it('cuts a multi-line body at the terminator, across reads', () => {
    const buffer = fed('+OK 5 octets\r\nline1\r\n..dot\r\n.');
    const parse = pop3ReplyParser(true);
    assert.equal(parse(buffer), undefined);
    buffer.feed(Buffer.from('\r\n+OK next\r\n'));
    const reply = parse(buffer);
    assert.equal(reply?.ok, true);
    assert.equal(reply?.body?.toString(), 'line1\r\n..dot\r\n');
    assert.equal(buffer.line(), '+OK next');
  });

  it('handles an empty body and a refusal without a body', () => {
    assert.equal(pop3ReplyParser(true)(fed('+OK\r\n.\r\n'))?.body?.length, 0);
    const refusal = pop3ReplyParser(true)(fed('-ERR no such message\r\n'));
    assert.deepEqual(refusal, { ok: false, text: 'no such message' });
    assert.deepEqual(uidlLines(Buffer.from('1 a\r\n2 b\r\n')), ['1 a', '2 b']);
  });
});
