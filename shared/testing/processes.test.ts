import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runProcess } from './processes.ts';

describe('runProcess', () => {
  it('gives the exit code of a program that exits without reading its input, with no EPIPE thrown at the test', async () => {
    let uncaught: unknown;
    const onUncaught = (error: unknown) => (uncaught = error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      // More than a pipe holds: the write is still pending when `true` exits.
      for (let i = 0; i < 5; i += 1) assert.equal((await runProcess('true', [], { input: Buffer.alloc(1024 * 1024) })).code, 0);
      assert.equal((await runProcess('true', [])).code, 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.equal(uncaught, undefined);
  });

  it('writes the input to a program that reads it', async () => {
    const result = await runProcess('cat', [], { input: 'hello\n' });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.toString(), 'hello\n');
  });
});
