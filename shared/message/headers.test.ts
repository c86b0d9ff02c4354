import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldValue, fieldValues, headerBounds, headerSection, parseFields, readHeader, unfold } from './headers.ts';
import { decodeWords } from './words.ts';

const buf = (text: string) => Buffer.from(text, 'latin1');

describe('header bounds', () => {
  it('end before the blank line, with CRLF or bare LF, and the body after it', () => {
    assert.deepEqual(headerBounds(buf('A: 1\r\nB: 2\r\n\r\nbody')), { end: 10, body: 14, complete: true });
    assert.deepEqual(headerBounds(buf('A: 1\nB: 2\n\nbody')), { end: 9, body: 11, complete: true });
    assert.deepEqual(headerBounds('A: 1\r\n\r\n'), { end: 4, body: 8, complete: true });
  });

  it('an empty header when the message starts with a blank line; all header when there is none', () => {
    assert.deepEqual(headerBounds(buf('\r\nbody\r\n\r\nmore')), { end: 0, body: 2, complete: true });
    assert.deepEqual(headerBounds(buf('A: 1\r\nB: 2\r\n')), { end: 10, body: 12, complete: false });
    assert.deepEqual(headerBounds(buf('A: 1')), { end: 4, body: 4, complete: false });
  });

  it('stop at the size cap', () => {
    const long = buf(`A: ${'x'.repeat(100)}\r\nB: 2\r\n\r\nbody`);
    assert.deepEqual(headerBounds(long, 50), { end: 50, body: long.length, complete: false });
    assert.equal(readHeader(long, 50).length, 1);
    assert.equal(headerSection(long).toString(), `A: ${'x'.repeat(100)}\r\nB: 2`);
  });
});

describe('header fields', () => {
  const message = buf('Received: from a\r\n\tby b;\r\n  Mon\r\nSubject : =?utf-8?B?w6lsw6k=?=\r\nX-Empty:\r\nno colon line\r\nsubject: second\r\n\r\nX-Body: no\r\n');

  it('keep names as written, keys lower-cased, raw text with its folding, and values on one line', () => {
    const fields = readHeader(message);
    assert.deepEqual(
      fields.map((field) => [field.name, field.key, field.value]),
      [['Received', 'received', 'from a by b; Mon'], ['Subject', 'subject', '=?utf-8?B?w6lsw6k=?='], ['X-Empty', 'x-empty', ''], ['subject', 'subject', 'second']],
    );
    assert.equal(fields[0]?.raw, ' from a\r\n\tby b;\r\n  Mon\r\n');
    assert.equal(unfold(fields[0]?.raw ?? ''), 'from a\tby b;  Mon', 'RFC 5322 §2.2.3: only the line breaks go');
  });

  it('look up the first value or all of them, in any case', () => {
    const fields = readHeader(message);
    assert.equal(fieldValue(fields, 'SUBJECT'), '=?utf-8?B?w6lsw6k=?=');
    assert.deepEqual(fieldValues(fields, 'subject'), ['=?utf-8?B?w6lsw6k=?=', 'second']);
    assert.equal(fieldValue(fields, 'x-body'), undefined, 'the body is not read');
    assert.deepEqual(parseFields(' continuation first\r\nA: b'), [{ name: 'A', key: 'a', raw: ' b', value: 'b' }]);
  });

  it('decode encoded words and raw UTF-8 to the text a reader sees', () => {
    assert.equal(decodeWords('=?utf-8?B?w6lsw6k=?= =?iso-8859-1?Q?caf=E9_au_lait?='), 'élécafé au lait');
    assert.equal(decodeWords(Buffer.from('Grüße', 'utf8').toString('latin1')), 'Grüße');
    assert.equal(decodeWords('plain'), 'plain');
  });
});
