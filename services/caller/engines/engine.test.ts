import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { message, scanInput } from '../testing/messages.ts';
import { runEngine, type Engine } from './engine.ts';

const input = scanInput(message('hi'));

describe('runEngine', () => {
  it('reports the outcome with the time taken', async () => {
    const engine: Engine = { name: 'e', kind: 'spam', scan: async () => ({ status: 'scored', score: 2, rules: [{ name: 'R', score: 2, description: 'd' }] }) };
    const result = await runEngine(engine, input, 1000);
    assert.equal(result.status, 'scored');
    assert.equal(result.score, 2);
    assert.ok(result.elapsedMs >= 0);
  });

  it('turns a throw into status error', async () => {
    const engine: Engine = { name: 'e', kind: 'virus', scan: async () => Promise.reject(new Error('boom')) };
    assert.deepEqual({ ...(await runEngine(engine, input, 1000)), elapsedMs: 0 }, { engine: 'e', kind: 'virus', status: 'error', viruses: [], rules: [], detail: 'boom', elapsedMs: 0 });
  });

  it('times out an engine that never answers, and aborts its signal', async () => {
    let aborted = false;
    const engine: Engine = {
      name: 'slow',
      kind: 'virus',
      scan: (_input, signal) =>
        new Promise(() => {
          signal.addEventListener('abort', () => (aborted = true));
        }),
    };
    const started = Date.now();
    const result = await runEngine(engine, input, 100);
    assert.equal(result.status, 'timeout');
    assert.match(result.detail ?? '', /no answer within 100 ms/);
    assert.ok(Date.now() - started < 1000);
    assert.equal(aborted, true);
  });
});
