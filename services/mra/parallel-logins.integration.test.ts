/**
 * Several sessions logging in at once from one address with the right password: of one
 * user (a phone and a desktop behind one NAT, or a client opening 8 connections), or of
 * several users (an office behind one NAT; every host client of the compose lab comes
 * from the network's gateway). The auth penalty holds an attempt while the ones ahead of
 * it are checked, but when they succeed it goes on, so none waits the 2, 4, 8, 15 s a
 * burst of guesses would. Raw IMAP sockets, the penalty's real steps (IMAP and POP3 share it).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthPenalty, AUTH_PENALTY_INIT_MS } from '../../shared/auth-penalty.ts';
import { startLab, type Lab } from './testing/harness.ts';
import { RawImap } from './testing/raw-client.ts';

describe('parallel logins from one address (raw IMAP)', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({}, { penalty: new AuthPenalty() });
  });
  after(async () => {
    await lab.close();
  });

  it('8 sessions with the right password all log in without waiting out a penalty', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawImap.open(lab.imapPort)));
    try {
      const started = performance.now();
      const replies = await Promise.all(clients.map((client, i) => client.command(`l${i}`, 'LOGIN carol@beta.test secret', 20_000)));
      const ms = performance.now() - started;
      replies.forEach((reply, i) => assert.match(reply, new RegExp(`^l${i} OK `, 'mu')));
      assert.ok(ms < AUTH_PENALTY_INIT_MS, `8 logins took ${Math.round(ms)} ms (the penalty's first step is ${AUTH_PENALTY_INIT_MS} ms)`);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it('three users logging in at once from one address wait out no penalty', async () => {
    const users = ['alice@alpha.test', 'bob@beta.test', 'carol@beta.test'];
    const clients = await Promise.all(users.map(() => RawImap.open(lab.imapPort)));
    try {
      const started = performance.now();
      const replies = await Promise.all(clients.map((client, i) => client.command(`u${i}`, `LOGIN ${users[i]} secret`, 20_000)));
      const ms = performance.now() - started;
      replies.forEach((reply, i) => assert.match(reply, new RegExp(`^u${i} OK `, 'mu')));
      assert.ok(ms < AUTH_PENALTY_INIT_MS, `3 logins took ${Math.round(ms)} ms (the penalty's first step is ${AUTH_PENALTY_INIT_MS} ms)`);
    } finally {
      for (const client of clients) client.close();
    }
  });
});
