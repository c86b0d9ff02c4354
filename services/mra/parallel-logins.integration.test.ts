/**
 * Several sessions of one user logging in at once from one address (a phone and a
 * desktop behind one NAT, or a client opening 8 connections) with the right password:
 * the auth penalty counts each attempt before its check, but the first success releases
 * the others, so none waits the 2, 4, 8, 15 s a burst of guesses would. Raw IMAP
 * sockets, the penalty's real steps.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthPenalty, AUTH_PENALTY_INIT_MS } from '../../shared/auth-penalty.ts';
import { startLab, type Lab } from './testing/harness.ts';
import { RawImap } from './testing/raw-client.ts';

describe('parallel logins of one user from one address (raw IMAP)', () => {
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
});
