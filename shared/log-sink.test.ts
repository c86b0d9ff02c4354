import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnSink, type WriteFd } from './log-sink.ts';
import { runProcess } from './testing/processes.ts';

function recorder(): { writes: string[]; write: WriteFd } {
  const writes: string[] = [];
  return { writes, write: (_fd, data) => (writes.push(data.toString()), data.length) };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('lines of one turn go out after it, in order, in one write', async () => {
  const { writes, write } = recorder();
  const sink = new TurnSink(1, { write, flushOnExit: false });
  sink.write('a\n');
  sink.write('b\n');
  sink.write('c\n');
  assert.deepEqual(writes, [], 'nothing is written while the turn runs');
  await turn();
  assert.deepEqual(writes, ['a\nb\nc\n']);
  sink.write('d\n');
  await turn();
  assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
});

test('a short write is finished from where it stopped', async () => {
  const writes: string[] = [];
  const sink = new TurnSink(1, { write: (_fd, data) => (writes.push(data.subarray(0, 3).toString()), Math.min(3, data.length)), flushOnExit: false });
  sink.write('12345678\n');
  await turn();
  assert.equal(writes.join(''), '12345678\n');
  assert.equal(writes.length, 3);
});

test('a descriptor that would block keeps the lines, and later ones follow them in order', async () => {
  const writes: string[] = [];
  let full = 2;
  const sink = new TurnSink(1, {
    write: (_fd, data) => {
      if (full > 0) {
        full -= 1;
        throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
      }
      writes.push(data.toString());
      return data.length;
    },
    flushOnExit: false,
  });
  sink.write('first\n');
  await turn();
  sink.write('second\n');
  assert.deepEqual(writes, []);
  await sleep(50);
  assert.deepEqual(writes, ['first\nsecond\n']);
});

test('a reader that went away (EPIPE) costs the lines, not the process', async () => {
  const sink = new TurnSink(1, { write: () => { throw Object.assign(new Error('EPIPE'), { code: 'EPIPE' }); }, flushOnExit: false });
  sink.write('lost\n');
  await turn();
  assert.equal(sink.flushSync(), true);
});

test('an agent that logs and exits at once has every line on its stdout (real process, createLogger)', async () => {
  const logModule = join(import.meta.dirname, 'log.ts');
  const script = `import { createLogger } from ${JSON.stringify(logModule)};
const log = createLogger('probe', 'info');
for (let i = 0; i < 1000; i += 1) log.info({ i }, 'line');
process.exit(3);`;
  const result = await runProcess(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(result.code, 3, result.stderr);
  const lines = result.stdout.toString().trim().split('\n').map((line) => JSON.parse(line) as { i: number; service: string });
  assert.equal(lines.length, 1000);
  assert.deepEqual(lines.map((line) => line.i), Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(lines[0]?.service, 'probe');
});
