import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { instreamFrames, parseClamdReply } from './clamd.ts';
import { parseReportTable, parseSpamdReply, spamdRequest } from './spamd.ts';

describe('clamd protocol', () => {
  it('frames INSTREAM as zINSTREAM, 4-byte big-endian lengths, and a zero-length end', () => {
    const frames = Buffer.concat(instreamFrames(Buffer.from('abcdefg'), 3));
    assert.equal(frames.toString('latin1'), 'zINSTREAM\0\0\0\0\x03abc\0\0\0\x03def\0\0\0\x01g\0\0\0\0');
  });

  it('parses OK, FOUND and ERROR replies', () => {
    assert.deepEqual(parseClamdReply('stream: OK\0'), { status: 'clean' });
    assert.deepEqual(parseClamdReply('stream: Eicar-Signature FOUND\0'), { status: 'infected', name: 'Eicar-Signature' });
    assert.deepEqual(parseClamdReply('stream: Win.Test.EICAR_HDB-1 FOUND\0'), { status: 'infected', name: 'Win.Test.EICAR_HDB-1' });
    assert.deepEqual(parseClamdReply('INSTREAM size limit exceeded. ERROR\0'), { status: 'error', message: 'INSTREAM size limit exceeded. ERROR' });
    assert.deepEqual(parseClamdReply(''), { status: 'error', message: 'empty reply' });
  });
});

describe('spamd protocol', () => {
  const report = [
    'SPAMD/1.1 0 EX_OK',
    'Content-length: 600',
    'Spam: True ; 1003.3 / 5.0',
    '',
    'Spam detection software, running on the system "vm",',
    'has identified this incoming email as possible spam.',
    '',
    'Content analysis details:   (1003.3 points, 5.0 required)',
    '',
    ' pts rule name              description',
    '---- ---------------------- --------------------------------------------------',
    ' 2.7 MISSING_DATE           Missing Date: header',
    '-0.0 NO_RECEIVED            Informational: message has no Received headers',
    '1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email',
    ' 0.1 LONG_RULE              A description that is long enough to be',
    '                            wrapped onto a second line',
    '',
    '',
  ].join('\r\n');

  it('sends the command with SPAMC/1.5 and Content-length', () => {
    assert.equal(Buffer.concat(spamdRequest('REPORT', Buffer.from('abc'))).toString(), 'REPORT SPAMC/1.5\r\nContent-length: 3\r\n\r\nabc');
  });

  it('parses a REPORT reply: verdict, score, threshold and the rule table', () => {
    const reply = parseSpamdReply(report, 'REPORT');
    assert.equal(reply.isSpam, true);
    assert.equal(reply.score, 1003.3);
    assert.equal(reply.threshold, 5);
    assert.deepEqual(reply.rules.map((rule) => [rule.name, rule.score]), [
      ['MISSING_DATE', 2.7],
      ['NO_RECEIVED', -0],
      ['GTUBE', 1000],
      ['LONG_RULE', 0.1],
    ]);
    assert.equal(reply.rules[3]?.description, 'A description that is long enough to be wrapped onto a second line');
  });

  it('parses a SYMBOLS reply', () => {
    const reply = parseSpamdReply('SPAMD/1.1 0 EX_OK\r\nContent-length: 20\r\nSpam: False ; 1.2 / 5.0\r\n\r\nMISSING_MID,TVD_X\r\n', 'SYMBOLS');
    assert.equal(reply.isSpam, false);
    assert.deepEqual(reply.rules.map((rule) => rule.name), ['MISSING_MID', 'TVD_X']);
  });

  it('turns error status lines and garbage into engine errors', () => {
    assert.throws(() => parseSpamdReply('SPAMD/1.0 76 Bad header line: XYZ\r\n\r\n', 'REPORT'), /spamd: 76 Bad header line/);
    assert.throws(() => parseSpamdReply('HTTP/1.1 400 Bad Request\r\n\r\n', 'REPORT'), /unexpected reply/);
    assert.throws(() => parseSpamdReply('SPAMD/1.1 0 EX_OK\r\n\r\n', 'REPORT'), /no Spam: header/);
    assert.deepEqual(parseReportTable('no table here'), []);
  });
});
