import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitedLines, TOO_LONG_LINE } from './command-lines.ts';

/** Feeds `chunks` one write at a time and returns the command lines the parser dispatched. */
async function dispatched(chunks: string[], maxCommandLength = 16): Promise<string[]> {
  const parser = new LimitedLines({ maxCommandLength });
  const lines: string[] = [];
  parser.oncommand = (command, callback) => {
    lines.push(command.toString('latin1'));
    callback?.();
  };
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => parser.write(Buffer.from(chunk, 'latin1'), (error) => (error ? reject(error) : resolve())));
  }
  return lines;
}

describe('LimitedLines (command parser with over-long lines skipped)', () => {
  it('passes lines up to the limit and replaces a longer one, in order, keeping what follows', async () => {
    assert.deepEqual(await dispatched([`NOOP\r\n${'x'.repeat(17)}\r\n${'y'.repeat(16)}\r\nRSET\r\n`]), ['NOOP', TOO_LONG_LINE, 'y'.repeat(16), 'RSET']);
  });

  it('skips an over-long line spread over chunks, whatever the chunking', async () => {
    const input = `NOOP\r\n${'a'.repeat(40)} MAIL FROM:<x@y.example>\r\nQUIT\r\n`;
    for (let size = 1; size <= input.length; size += 3) {
      const chunks: string[] = [];
      for (let index = 0; index < input.length; index += size) chunks.push(input.slice(index, index + size));
      assert.deepEqual(await dispatched(chunks), ['NOOP', TOO_LONG_LINE, 'QUIT'], `chunks of ${size}`);
    }
  });
});
