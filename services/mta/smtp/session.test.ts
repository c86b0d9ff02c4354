import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SMTPServerSession } from 'smtp-server';
import { ConnectionCounter } from './session.ts';

const session = (id: string, remoteAddress: string) => ({ id, remoteAddress }) as SMTPServerSession;

describe('ConnectionCounter', () => {
  it('admits up to the limit per client address and frees a slot on close', () => {
    const counter = new ConnectionCounter(2);
    assert.equal(counter.admit(session('a', '192.0.2.1')), true);
    assert.equal(counter.admit(session('b', '192.0.2.1')), true);
    assert.equal(counter.admit(session('c', '192.0.2.1')), false);
    assert.equal(counter.admit(session('d', '192.0.2.2')), true);
    counter.release(session('c', '192.0.2.1'));
    assert.equal(counter.admit(session('e', '192.0.2.1')), false, 'a refused session frees nothing');
    counter.release(session('a', '192.0.2.1'));
    assert.equal(counter.admit(session('f', '192.0.2.1')), true);
  });
});
