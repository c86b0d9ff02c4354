import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandQueue } from './command-queue.ts';

describe('pipelined commands, one at a time', () => {
  it('runs in order, one at a time, pausing reading above the limit and resuming below half of it', async () => {
    const events: string[] = [];
    let active = 0;
    let release: () => void = () => undefined;
    const queue = new CommandQueue<number>({
      max: 4,
      run: async (item) => {
        active += 1;
        assert.equal(active, 1, 'never two at once');
        events.push(`run ${item}`);
        if (item === 1) await new Promise<void>((resolve) => (release = resolve));
        active -= 1;
      },
      stopped: () => false,
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
    });
    queue.push(1);
    queue.push(2, 3, 4, 5, 6);
    assert.deepEqual(events, ['resume', 'run 1', 'pause'], 'six waiting of four allowed: reading paused');
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(events.filter((event) => event.startsWith('run')), ['run 1', 'run 2', 'run 3', 'run 4', 'run 5', 'run 6']);
    assert.ok(events.indexOf('resume', 3) > events.indexOf('run 2'), 'resumed once the queue fell below half');
  });

  it('runs nothing more once the session stopped, and nothing cleared before a TLS upgrade', async () => {
    const ran: number[] = [];
    let stopped = false;
    let release: () => void = () => undefined;
    const queue = new CommandQueue<number>({
      max: 10,
      run: async (item) => {
        ran.push(item);
        if (item === 1) await new Promise<void>((resolve) => (release = resolve));
        if (item === 3) stopped = true;
      },
      stopped: () => stopped,
      pause: () => undefined,
      resume: () => undefined,
    });
    queue.push(1, 2);
    queue.clear();
    queue.push(3, 4);
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(ran, [1, 3], '2 was cleared, 4 came after the stop');
  });
});
