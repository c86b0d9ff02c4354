import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataScanner } from './data-scanner.ts';

function scan(chunks: string[], options: { maxBytes?: number; maxLineBytes?: number } = {}): DataScanner {
  const scanner = new DataScanner(options);
  for (const chunk of chunks) scanner.push(Buffer.from(chunk, 'latin1'));
  return scanner;
}

describe('DataScanner', () => {
  it('passes CRLF-only text and keeps it byte for byte', () => {
    const scanner = scan(['Subject: a\r', '\nX: y\r\n\r\nbody\r\n']);
    assert.equal(scanner.problem(), undefined);
    assert.equal(scanner.message().toString('latin1'), 'Subject: a\r\nX: y\r\n\r\nbody\r\n');
  });

  for (const [name, text] of [
    ['bare LF', 'a\nb\r\n'],
    ['<LF>.<LF>', 'a\r\n\n.\nMAIL FROM:<x@y>\r\n'],
    ['<LF>.<CR><LF>', 'a\n.\r\n'],
    ['bare CR', 'a\rb\r\n'],
    ['CR at the very end', 'a\r\nb\r'],
  ] as const) {
    it(`finds a ${name}`, () => {
      assert.equal(scan([text]).problem(), 'bare-line-ending');
    });
  }

  it('finds a CR and a non-LF split across chunks', () => {
    assert.equal(scan(['abc\r', 'x\r\n']).problem(), 'bare-line-ending');
  });

  it('allows a 1000-octet line (CRLF included) and refuses 1001', () => {
    assert.equal(scan([`${'x'.repeat(998)}\r\n`]).problem(), undefined);
    assert.equal(scan([`${'x'.repeat(999)}\r\n`]).problem(), 'line-too-long');
  });

  it('counts but does not keep bytes over the size limit', () => {
    const scanner = scan(['12345\r\n', '67890\r\n'], { maxBytes: 10 });
    assert.equal(scanner.problem(), 'too-big');
    assert.equal(scanner.bytes, 14);
    assert.equal(scanner.message().length, 7);
  });
});
