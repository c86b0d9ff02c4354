import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureServerCertificate } from '../../shared/tls.ts';
import { startFakeImap, startFakePop3 } from '../testing/fake-mailbox.ts';
import { startFakeSmtp } from '../testing/fake-smtp.ts';
import type { ImapResult } from '../workers/jobs.ts';
import type { Pop3Result } from '../workers/jobs.ts';
import type { SmtpResult } from '../workers/jobs.ts';
import { buildMessage } from './maildir-gen.ts';
import { split, startWorkers } from './workers.ts';

const messages = Array.from({ length: 30 }, (_, i) =>
  buildMessage({ from: 'a@x.test', to: 'b@y.test', subject: `m${i}`, messageId: `<${i}@x>`, date: new Date(0) }, 300 + i),
);

describe('split', () => {
  it('shares a total out evenly', () => {
    assert.deepEqual(split(10, 3), [4, 3, 3]);
    assert.deepEqual(split(2, 5), [1, 1]);
  });
});

describe('load-generator workers against fake servers', () => {
  it('smtp: every message accepted once, with STARTTLS and AUTH, one latency each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-tls-'));
    const files = await ensureServerCertificate(dir, 'fake', ['localhost']);
    const server = await startFakeSmtp({ cert: files.cert, key: files.key });
    try {
      const jobs = split(25, 2).map((count, i) => ({
        host: '127.0.0.1',
        port: server.port,
        sessions: 3,
        messages: count,
        bodyBytes: 1000,
        from: 'a@alpha.test',
        to: 'b@beta.test',
        label: `w${i}`,
        ehloName: 'bench.test',
        starttls: { ca: files.ca, servername: 'localhost' },
        auth: { user: 'a@alpha.test', password: 'secret' },
      }));
      const group = await startWorkers<SmtpResult>('smtp', jobs);
      const results = await group.go().results;
      assert.equal(results.reduce((sum, r) => sum + r.accepted, 0), 25);
      assert.equal(results.reduce((sum, r) => sum + r.latenciesMs.length, 0), 25);
      assert.equal(server.messages.length, 25);
      assert.ok(results.every((r) => r.failed === 0));
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('smtp: a refused AUTH fails the worker with the reply', async () => {
    const server = await startFakeSmtp({ password: 'other' });
    try {
      const job = { host: '127.0.0.1', port: server.port, sessions: 1, messages: 1, bodyBytes: 10, from: 'a@x', to: 'b@y', label: 'x', ehloName: 'b', auth: { user: 'a', password: 'secret' } };
      await assert.rejects(startWorkers<SmtpResult>('smtp', [job]), /535/u);
    } finally {
      await server.close();
    }
  });

  it('imap: counts each command once and reads every body literal', async () => {
    const server = await startFakeImap(messages);
    try {
      const group = await startWorkers<ImapResult>('imap', [
        { host: '127.0.0.1', port: server.port, clients: [{ user: 'u', password: 'p' }, { user: 'v', password: 'p' }], seconds: 1, bodies: 5 },
      ]);
      const [result] = await group.go().results;
      assert.ok(result && result.loops > 0);
      const counted = Object.values(result.latenciesMs).reduce((sum, list) => sum + list.length, 0);
      assert.equal(result.commands, counted);
      assert.ok(result.commands <= [...server.commands.values()].reduce((a, b) => a + b, 0));
      assert.ok(result.latenciesMs.FETCH_BODY.length >= result.loops * 5);
      assert.ok(result.bodyOctets >= result.latenciesMs.FETCH_BODY.length * 300);
    } finally {
      await server.close();
    }
  });

  for (const pipelining of [true, false]) {
    it(`pop3: retrieves every message of every maildrop (pipelining ${pipelining})`, async () => {
      const server = await startFakePop3(messages, { pipelining });
      try {
        const group = await startWorkers<Pop3Result>('pop3', [
          { host: '127.0.0.1', port: server.port, sessions: [{ user: 'a', password: 'p' }, { user: 'b', password: 'p' }], window: 8 },
        ]);
        const [result] = await group.go().results;
        assert.equal(result?.messages, 60);
        assert.equal(result?.pipelined, pipelining);
        assert.equal(server.commands.get('RETR'), 60);
        const total = messages.reduce((sum, m) => sum + m.length, 0) * 2;
        assert.ok(Math.abs((result?.octets ?? 0) - total) < 100, `${result?.octets} vs ${total}`);
      } finally {
        await server.close();
      }
    });
  }
});
