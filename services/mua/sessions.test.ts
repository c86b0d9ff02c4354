import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createLogger } from '../../shared/log.ts';
import { IDLE_SESSION_MS, MAX_SESSION_MS, SessionStore, type Session } from './sessions.ts';
import { FakeStore } from './testing/fakes.ts';

function session(id: string, now: number, store = new FakeStore()): Session {
  const endpoint = { host: '127.0.0.1', port: 1, servername: 'x', source: 'srv' as const };
  return {
    id, address: 'alice@alpha.test', domain: 'alpha.test', credentials: { user: 'alice@alpha.test', password: 'secret' },
    servers: { imap: endpoint, submission: endpoint }, store, relay: new EventEmitter(), detach: () => undefined,
    createdAt: now, lastSeen: now, streams: new Set(),
  };
}

describe('web sessions', () => {
  it('end after IDLE_SESSION_MS without use, closing their IMAP connection', async () => {
    let now = 0;
    const sessions = new SessionStore(createLogger('mua', 'silent'), () => now);
    const store = new FakeStore();
    sessions.add(session('a', now, store));
    now += IDLE_SESSION_MS - 1;
    assert.ok(sessions.get('a'), 'still alive, and touched');
    now += IDLE_SESSION_MS - 1;
    assert.ok(sessions.get('a'));
    now += IDLE_SESSION_MS + 1;
    assert.equal(sessions.get('a'), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.closed, true);
    await sessions.closeAll();
  });

  it('stay alive while an event stream is open, but not past MAX_SESSION_MS', async () => {
    let now = 0;
    const sessions = new SessionStore(createLogger('mua', 'silent'), () => now);
    const open = session('b', now);
    let ended = false;
    open.streams.add({ end: () => (ended = true) });
    sessions.add(open);
    now += IDLE_SESSION_MS * 3;
    assert.ok(sessions.get('b'));
    now += MAX_SESSION_MS;
    assert.equal(sessions.get('b'), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ended, true, 'its event streams are closed');
    await sessions.closeAll();
  });

  it('closeAll ends every session', async () => {
    const sessions = new SessionStore(createLogger('mua', 'silent'));
    const store = new FakeStore();
    sessions.add(session('c', Date.now(), store));
    await sessions.closeAll();
    assert.equal(sessions.size, 0);
    assert.equal(store.closed, true);
  });
});
