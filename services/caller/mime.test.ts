import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQuotedPrintable } from '../../shared/message/words.ts';
import { decodeEncodedWords, leafParts, MAX_MIME_DEPTH, MAX_MIME_PARTS, parseMime, parseMimeTree, parseParams, partText, splitMultipart } from './mime.ts';
import { addressesIn, domainOf, extractUrls, MAX_ADDRESS_HEADER_CHARS, readMessage } from './message.ts';

describe('mime', () => {
  it('unfolds headers and defaults to text/plain', () => {
    const part = parseMime(Buffer.from('Subject: one\r\n two\r\nX-A: b\r\n\r\nbody'));
    assert.equal(part.headers[0]?.value, 'one two');
    assert.equal(part.contentType, 'text/plain');
    assert.equal(part.body.toString(), 'body');
  });

  it('walks nested multiparts and message/rfc822, decoding base64 and quoted-printable', () => {
    const raw = [
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      'preamble',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=E9 soft=',
      'break',
      '--inner',
      'Content-Type: text/html',
      '',
      '<p>hi</p>',
      '--inner--',
      '--outer',
      'Content-Type: application/pdf; name="=?utf-8?B?w6l0w6kucGRm?="',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4').toString('base64'),
      '--outer',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      '',
      'forwarded',
      '--outer--',
      'epilogue',
    ].join('\r\n');
    const leaves = leafParts(parseMime(Buffer.from(raw, 'latin1')));
    assert.deepEqual(leaves.map((part) => part.contentType), ['text/plain', 'text/html', 'application/pdf', 'text/plain']);
    assert.equal(partText(leaves[0]!), 'café soft=break'.replace('=', ''));
    assert.equal(leaves[2]?.body.toString(), '%PDF-1.4');
    assert.equal(leaves[2]?.filename, 'été.pdf');
    assert.equal(leaves[3]?.body.toString(), 'forwarded');
  });

  it('keeps an unterminated multipart and empty parts', () => {
    assert.deepEqual(splitMultipart('--b\r\n\r\none\r\n--b\r\n\r\n', 'b'), ['\r\none', '\r\n']);
    assert.deepEqual(splitMultipart('no boundary here', 'b'), []);
  });

  it('decodes quoted-printable, RFC 2047 words and RFC 2231 parameters', () => {
    assert.equal(decodeQuotedPrintable('a=3Db=\r\nc =ZZ', false).toString('latin1'), 'a=bc =ZZ');
    assert.equal(decodeEncodedWords('=?utf-8?Q?caf=C3=A9?= =?utf-8?B?IQ==?= ok'), 'café! ok');
    assert.equal(decodeEncodedWords('=?x-unknown?Q?abc?='), 'abc');
    assert.deepEqual(parseParams(`attachment; filename*=utf-8''%C3%A9t%C3%A9.txt; size="1 2"`), { filename: 'été.txt', size: '1 2' });
  });
});

describe('message', () => {
  it('reads subject, From, recipients and text bodies; attachments are not text', () => {
    const raw = Buffer.from(
      'From: "Al, Ice" <Alice@Alpha.test>\r\nTo: a@x.test, "B" <b@x.test>\r\nCc: c@x.test (Carol)\r\nSubject: =?utf-8?Q?H=C3=A9?=\r\n' +
        'Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/html\r\n\r\n<a href="http://x.test/?a=1&amp;b=2">x</a>\r\n' +
        '--z\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nnot a body\r\n--z--\r\n',
    );
    const message = readMessage(raw);
    assert.equal(message.subject, 'Hé');
    assert.equal(message.from, 'alice@alpha.test');
    assert.deepEqual(message.headerRecipients, ['a@x.test', 'b@x.test', 'c@x.test']);
    assert.deepEqual(message.texts.map((text) => text.contentType), ['text/html']);
    assert.deepEqual(extractUrls(message.texts[0]?.text ?? '').map(String), ['http://x.test/?a=1&b=2']);
  });

  it('finds addresses and domains', () => {
    assert.deepEqual(addressesIn('undisclosed-recipients:;'), []);
    assert.deepEqual(addressesIn('"a@fake.test, x" <Real@X.test> (c@comment.test (nested d@n.test)), group: e@g.test;'), ['real@x.test', 'e@g.test']);
    assert.deepEqual(addressesIn('"unclosed <x@y.test>'), []);
    assert.deepEqual(addressesIn(`${'a'.repeat(300)}@long.test, b@ok.test`), ['b@ok.test']);
  });

  it('reads addresses only from the first MAX_ADDRESS_HEADER_CHARS of a header', () => {
    const padding = 'x '.repeat(MAX_ADDRESS_HEADER_CHARS / 2);
    assert.deepEqual(addressesIn(`first@a.test ${padding} late@b.test`), ['first@a.test']);
  });

  it('reports the MIME limits it hit: MaxFiles past the part count, MaxRecursion past the depth', () => {
    const many = Array.from({ length: MAX_MIME_PARTS + 1 }, (_, index) => `--b\r\n\r\n${index}\r\n`).join('');
    assert.deepEqual(parseMimeTree(Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${many}--b--\r\n`)).exceeded, ['MaxFiles']);
    const exact = Array.from({ length: MAX_MIME_PARTS - 1 }, (_, index) => `--b\r\n\r\n${index}\r\n`).join('');
    assert.deepEqual(parseMimeTree(Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${exact}--b--\r\n`)).exceeded, []);
    let nested = 'inner';
    for (let depth = 0; depth <= MAX_MIME_DEPTH; depth++) nested = `Content-Type: message/rfc822\r\n\r\n${nested}`;
    assert.deepEqual(parseMimeTree(Buffer.from(nested)).exceeded, ['MaxRecursion']);
    assert.equal(domainOf('x@Beta.Test.'), 'beta.test');
    assert.equal(domainOf(''), undefined);
  });
});
