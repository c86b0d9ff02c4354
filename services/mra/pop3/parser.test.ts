import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RESPONSE_LINE_OCTETS, MAX_UIDL_LENGTH } from './limits.ts';
import { uidlOf } from './maildrop.ts';
import { LineSplitter, parseCommand, parseNumber } from './parser.ts';
import { dotStuff, err, ok, serialize, topOf } from './replies.ts';

describe('POP3 line splitter', () => {
  it('emits complete lines across chunks, CRLF or bare LF', () => {
    const splitter = new LineSplitter();
    assert.deepEqual(splitter.push(Buffer.from('US')), []);
    assert.deepEqual(splitter.push(Buffer.from('ER bob\r\nPASS a b\nST')), [
      { kind: 'line', text: 'USER bob', octets: 10 },
      { kind: 'line', text: 'PASS a b', octets: 9 },
    ]);
    assert.equal(splitter.buffered, 2);
    assert.deepEqual(splitter.push(Buffer.from('AT\r\n')), [{ kind: 'line', text: 'STAT', octets: 6 }]);
  });

  it('reports an over-long line once and skips the rest of it', () => {
    const splitter = new LineSplitter(16);
    assert.deepEqual(splitter.push(Buffer.alloc(20, 0x41)), [{ kind: 'too-long' }]);
    assert.deepEqual(splitter.push(Buffer.alloc(5000, 0x41)), []);
    assert.deepEqual(splitter.push(Buffer.from('AAAA\r\nNOOP\r\n')), [{ kind: 'line', text: 'NOOP', octets: 6 }]);
  });

  it('forgets buffered bytes on reset (STLS)', () => {
    const splitter = new LineSplitter();
    splitter.push(Buffer.from('USER inj'));
    splitter.reset();
    assert.deepEqual(splitter.push(Buffer.from('ected\r\nCAPA\r\n')), [
      { kind: 'line', text: 'ected', octets: 7 },
      { kind: 'line', text: 'CAPA', octets: 6 },
    ]);
  });
});

describe('POP3 command parsing', () => {
  it('upper-cases the keyword and splits arguments', () => {
    assert.deepEqual(parseCommand('top 1  10'), { verb: 'TOP', args: ['1', '10'] });
    assert.deepEqual(parseCommand('STAT'), { verb: 'STAT', args: [] });
    assert.equal(parseCommand(''), undefined);
    assert.equal(parseCommand('XY'), undefined);
    assert.equal(parseCommand('RETRIEVE 1'), undefined);
    assert.equal(parseCommand('R3TR 1'), undefined);
  });

  it('accepts only plain decimal message numbers', () => {
    assert.equal(parseNumber('12'), 12);
    for (const bad of ['-1', '+1', '1.0', '0x1', '', '1e3', '9999999999', undefined]) assert.equal(parseNumber(bad), undefined, String(bad));
  });
});

describe('POP3 replies', () => {
  it('formats status lines with response codes', () => {
    assert.equal(serialize(ok('ready')).toString(), '+OK ready\r\n');
    assert.equal(serialize(err('bad login', 'AUTH')).toString(), '-ERR [AUTH] bad login\r\n');
    assert.equal(serialize(err('locked', 'IN-USE')).toString(), '-ERR [IN-USE] locked\r\n');
    assert.equal(serialize({ kind: 'challenge', text: '' }).toString(), '+ \r\n');
    assert.equal(serialize(ok('x\r\ny')).toString(), '+OK x  y\r\n');
    assert.equal(serialize(err('x'.repeat(600))).length, MAX_RESPONSE_LINE_OCTETS, 'RFC 2449 §4 response line limit');
  });

  it('byte-stuffs multi-line bodies and ends them with a dot line', () => {
    assert.equal(serialize(ok('2 messages', { lines: ['1 10', '2 20'] })).toString(), '+OK 2 messages\r\n1 10\r\n2 20\r\n.\r\n');
    assert.equal(dotStuff(Buffer.from('a\r\n.b\r\n..c\r\n.\r\n')).toString(), 'a\r\n..b\r\n...c\r\n..\r\n.\r\n');
    assert.equal(dotStuff(Buffer.from('bare\nlf\n')).toString(), 'bare\r\nlf\r\n.\r\n');
    assert.equal(dotStuff(Buffer.from('no newline')).toString(), 'no newline\r\n.\r\n');
    assert.equal(dotStuff(Buffer.alloc(0)).toString(), '.\r\n');
    // The as-is path (CRLF throughout, no leading dot) and the line-by-line one agree.
    const byLines = (text: string) => `${text === '' ? '' : text.replace(/\r?\n$/u, '').split(/\r?\n/u).map((line) => (line.startsWith('.') ? `.${line}` : line)).join('\r\n') + '\r\n'}.\r\n`;
    for (const text of ['a\r\nb\r\n', 'a\r\nb', 'Subject: x\r\n\r\nbody\r\n', '.start\r\n', 'a\r\n.b\r\n', 'a\nb\r\n', 'cr\ronly\r\n', '\r\n', 'x\r\n\r\n']) {
      assert.equal(dotStuff(Buffer.from(text, 'latin1')).toString('latin1'), byLines(text), JSON.stringify(text));
    }
  });

  it('TOP returns the header, the blank line and n body lines', () => {
    const message = Buffer.from('A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n');
    assert.equal(topOf(message, 0).toString(), 'A: 1\r\nB: 2\r\n\r\n');
    assert.equal(topOf(message, 2).toString(), 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n');
    assert.equal(topOf(message, 99).toString(), message.toString());
    assert.equal(topOf(Buffer.from('A: 1\r\nB'), 0).toString(), 'A: 1\r\nB');
  });

  it('UIDL ids are the unique name, or a digest when it does not fit RFC 1939', () => {
    assert.equal(uidlOf('1700000000.M1P2Q3R4.host'), '1700000000.M1P2Q3R4.host');
    const long = uidlOf(`1700000000.M1P2Q3R4.${'h'.repeat(80)}`);
    assert.ok(long.length <= MAX_UIDL_LENGTH && /^[\x21-\x7e]+$/u.test(long));
    assert.equal(long, uidlOf(`1700000000.M1P2Q3R4.${'h'.repeat(80)}`));
  });
});
