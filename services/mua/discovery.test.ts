import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFallback } from './config.ts';
import { Discovery, DiscoveryError, orderSrv, type LabResolver, type SrvAnswer } from './discovery.ts';

function fakeResolver(srv: Record<string, SrvAnswer[]>, a: Record<string, string[]>): LabResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolveSrv(name) {
      asked.push(`SRV ${name}`);
      const answer = srv[name];
      if (!answer) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return answer;
    },
    async resolve4(name) {
      asked.push(`A ${name}`);
      const answer = a[name];
      if (!answer) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return answer;
    },
  };
}

describe('RFC 6186 discovery', () => {
  it('finds IMAP and submission from SRV records and resolves their targets in the lab DNS', async () => {
    const resolver = fakeResolver(
      {
        '_imap._tcp.alpha.test': [{ name: 'imap.alpha.test', port: 143, priority: 0, weight: 1 }],
        '_submission._tcp.alpha.test': [{ name: 'smtp.alpha.test.', port: 587, priority: 0, weight: 1 }],
      },
      { 'imap.alpha.test': ['127.28.0.12'], 'smtp.alpha.test': ['127.28.0.10'] },
    );
    const servers = await new Discovery(resolver, new Map()).servers('Alpha.Test');
    assert.deepEqual(servers.imap, { host: '127.28.0.12', port: 143, servername: 'imap.alpha.test', source: 'srv' });
    assert.deepEqual(servers.submission, { host: '127.28.0.10', port: 587, servername: 'smtp.alpha.test', source: 'srv' });
  });

  it('skips a target without an address and takes the next by priority', async () => {
    const resolver = fakeResolver(
      {
        '_imap._tcp.beta.test': [
          { name: 'imap2.beta.test', port: 1143, priority: 20, weight: 0 },
          { name: 'gone.beta.test', port: 143, priority: 10, weight: 0 },
        ],
        '_submission._tcp.beta.test': [{ name: 'smtp.beta.test', port: 587, priority: 0, weight: 0 }],
      },
      { 'imap2.beta.test': ['127.28.0.23'], 'smtp.beta.test': ['127.28.0.20'] },
    );
    const servers = await new Discovery(resolver, new Map()).servers('beta.test');
    assert.equal(servers.imap.servername, 'imap2.beta.test');
    assert.equal(servers.imap.port, 1143);
  });

  it('uses MUA_FALLBACK when there are no SRV records, and "." means no service', async () => {
    const resolver = fakeResolver({ '_imap._tcp.alpha.test': [{ name: '.', port: 0, priority: 0, weight: 0 }] }, {});
    const fallback = parseFallback('alpha.test=imap@127.0.0.1:1143;submission@127.0.0.1:1587');
    const servers = await new Discovery(resolver, fallback).servers('alpha.test');
    assert.deepEqual(servers.imap, { host: '127.0.0.1', port: 1143, servername: '127.0.0.1', source: 'fallback' });
    assert.equal(servers.submission.port, 1587);
  });

  it('fails with a clear error when nothing is known, and caches answers', async () => {
    const resolver = fakeResolver({}, {});
    await assert.rejects(new Discovery(resolver, new Map()).servers('nowhere.test'), DiscoveryError);
    const known = fakeResolver(
      {
        '_imap._tcp.a.test': [{ name: 'i.a.test', port: 143, priority: 0, weight: 0 }],
        '_submission._tcp.a.test': [{ name: 's.a.test', port: 587, priority: 0, weight: 0 }],
      },
      { 'i.a.test': ['127.0.0.2'], 's.a.test': ['127.0.0.3'] },
    );
    const discovery = new Discovery(known, new Map());
    await discovery.servers('a.test');
    const count = known.asked.length;
    await discovery.servers('a.test');
    assert.equal(known.asked.length, count);
  });

  it('orders SRV records by priority, then by weight (RFC 2782)', () => {
    const records = [
      { name: 'c', port: 1, priority: 5, weight: 0 },
      { name: 'a', port: 1, priority: 1, weight: 10 },
      { name: 'b', port: 1, priority: 1, weight: 90 },
    ];
    assert.deepEqual(orderSrv(records, () => 0.5).map((r) => r.name), ['b', 'a', 'c']);
    assert.deepEqual(orderSrv(records, () => 0.01).map((r) => r.name), ['a', 'b', 'c']);
  });

  it('refuses a malformed fallback', () => {
    assert.throws(() => parseFallback('alpha.test=pop3@127.0.0.1:110'), /imap@host:port/u);
    assert.throws(() => parseFallback('=imap@x:1'), /domain/u);
  });
});
