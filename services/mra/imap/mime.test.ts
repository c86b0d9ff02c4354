import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bodyStructure, envelope, parseMime } from './mime.ts';
import { encodeResponse, untagged } from './encode.ts';
import { parseFetchItem, sectionData, applyPartial, type SectionItem } from './fetch-items.ts';
import { bodyText, decodeWords } from './decode.ts';

const message = [
  'From: =?utf-8?B?QWxpY8Op?= <alice@alpha.test>',
  'To: friends: bob@beta.test, carol@beta.test;',
  'Subject: Multi',
  'Content-Type: multipart/mixed; boundary="XX"',
  '',
  'preamble',
  '--XX',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'caf=C3=A9 time',
  '--XX',
  'Content-Type: message/rfc822',
  '',
  'From: carol@beta.test',
  'Subject: inner',
  '',
  'inner body',
  '--XX--',
  '',
].join('\r\n');

const wire = (value: Parameters<typeof untagged>[0]) => encodeResponse(untagged(value)).toString('latin1').slice(2, -2);
const section = (spec: string): string => {
  const item = parseFetchItem(spec);
  assert.ok(item.kind === 'section');
  const data = sectionData(parseMime(Buffer.from(message)), Buffer.from(message), item as SectionItem);
  return data === undefined ? '<none>' : applyPartial(data, (item as SectionItem).partial).toString('latin1');
};

describe('MIME walker', () => {
  it('builds BODYSTRUCTURE with nested message and concatenated multipart bodies', () => {
    const structure = wire(bodyStructure(parseMime(Buffer.from(message)), true));
    assert.match(structure, /^\(\("text" "plain" \("charset" "utf-8"\) NIL NIL "quoted-printable" 14 1 NIL NIL NIL NIL\)\("message" "rfc822" NIL NIL NIL "7bit" \d+ \(NIL "inner"/u);
    assert.match(structure, /"mixed" \("boundary" "XX"\) NIL NIL NIL\)$/u);
  });

  it('builds ENVELOPE with groups and raw encoded words', () => {
    const value = wire(envelope(parseMime(Buffer.from(message))));
    assert.equal(value, '(NIL "Multi" (("=?utf-8?B?QWxpY8Op?=" NIL "alice" "alpha.test")) (("=?utf-8?B?QWxpY8Op?=" NIL "alice" "alpha.test")) (("=?utf-8?B?QWxpY8Op?=" NIL "alice" "alpha.test")) ((NIL NIL "friends" NIL) (NIL NIL "bob" "beta.test") (NIL NIL "carol" "beta.test") (NIL NIL NIL NIL)) NIL NIL NIL NIL)');
  });

  it('cuts sections byte for byte', () => {
    assert.equal(section('BODY[1]'), 'caf=C3=A9 time');
    assert.equal(section('BODY[1.MIME]'), 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
    assert.equal(section('BODY[2.HEADER]'), 'From: carol@beta.test\r\nSubject: inner\r\n\r\n');
    assert.equal(section('BODY[2.TEXT]'), 'inner body');
    assert.equal(section('BODY[2.1]'), 'inner body');
    assert.equal(section('BODY[HEADER.FIELDS (subject TO)]'), 'To: friends: bob@beta.test, carol@beta.test;\r\nSubject: Multi\r\n\r\n');
    assert.equal(section('BODY[HEADER.FIELDS.NOT (From To Content-Type)]'), 'Subject: Multi\r\n\r\n');
    assert.equal(section('BODY[]<6.4>'), '=?ut');
    assert.equal(section('BODY[3]'), '<none>');
    assert.ok(section('BODY[TEXT]').startsWith('preamble\r\n--XX'));
  });

  it('decodes text for SEARCH', () => {
    assert.equal(decodeWords('=?utf-8?B?QWxpY8Op?= =?iso-8859-1?Q?=E9t=E9?='), 'Alicéété');
    assert.match(bodyText(parseMime(Buffer.from(message))), /café time[\s\S]*inner body/u);
  });

  it('survives garbage without throwing', () => {
    for (const junk of ['', 'no header at all', 'Content-Type: multipart/mixed; boundary=""\r\n\r\nx', 'Content-Type: ///\r\n\r\n', 'Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\n--a\r\n']) {
      const part = parseMime(Buffer.from(junk));
      assert.ok(wire(bodyStructure(part, true)).length > 0);
      assert.ok(wire(envelope(part)).length > 0);
    }
  });

  it('writes a multipart whose boundary never appears with one empty text/plain part (body-type-mpart needs a body)', () => {
    const part = parseMime(Buffer.from('Content-Type: multipart/mixed; boundary="nope"\r\n\r\nno parts here\r\n'));
    assert.equal(wire(bodyStructure(part, true)), '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "nope") NIL NIL NIL)');
    assert.equal(wire(bodyStructure(part, false)), '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")');
  });
});
