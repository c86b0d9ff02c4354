import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeQuotedPrintable } from './words.ts';

const qp = (text: string, underscores = false) => decodeQuotedPrintable(text, underscores).toString('latin1');

describe('decodeQuotedPrintable (RFC 2045 §6.7, RFC 2047 §4.2)', () => {
  it('decodes =XX octets in either case and keeps a malformed = as it is', () => {
    assert.equal(qp('caf=C3=A9 =3d =ZZ =4'), 'caf\u00c3\u00a9 = =ZZ =4');
    assert.equal(qp('end='), 'end=');
  });
  it('removes soft line breaks, CRLF or LF, with blanks before the break', () => {
    assert.equal(qp('long=\r\nline= \t\r\nnext=\nlast'), 'longlinenextlast');
    assert.equal(qp('hard\r\nbreak'), 'hard\r\nbreak');
  });
  it('reads _ as a space in Q words only', () => {
    assert.equal(qp('a_b=5F', true), 'a b_');
    assert.equal(qp('a_b', false), 'a_b');
  });
  it('decodes a body of many megabytes to the same bytes as its encoding says', () => {
    const line = `${'x'.repeat(70)}=3D=\r\n`;
    const decoded = decodeQuotedPrintable(line.repeat(200_000), false);
    assert.equal(decoded.length, 71 * 200_000);
    assert.equal(decoded.subarray(0, 72).toString('latin1'), `${'x'.repeat(70)}=x`);
  });
});
