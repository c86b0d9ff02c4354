import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRoute, routeFailureReply, type RoutePlan } from './mx-plan.ts';
import { cachingResolver, fromCache } from './dns-cache.ts';
import { NEGATIVE_TTL_S } from './resolver.ts';
import { scriptedResolver } from '../testing/scripted-resolver.ts';

const own = { ownHostnames: ['mx.alpha.test'] };

function hosts(plan: RoutePlan): string[] {
  assert.ok(plan.ok, `expected a route, got ${plan.ok ? '' : routeFailureReply(plan)}`);
  return plan.exchanges.map((exchange) => exchange.exchange);
}

function addresses(plan: RoutePlan): string[] {
  assert.ok(plan.ok);
  return plan.exchanges.flatMap((exchange) => exchange.addresses);
}

describe('MX planner', () => {
  it('sorts exchanges by preference, lowest value first', async () => {
    const resolver = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'mx3.beta.test', priority: 30 }, { exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'mx2.beta.test', priority: 20 }] },
      a: { 'mx1.beta.test': ['127.0.0.21'], 'mx2.beta.test': ['127.0.0.22'], 'mx3.beta.test': ['127.0.0.23'] },
    });
    assert.deepEqual(hosts(await planRoute('beta.test', resolver, own)), ['mx1.beta.test', 'mx2.beta.test', 'mx3.beta.test']);
  });

  it('orders exchanges of equal preference at random', async () => {
    const resolver = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'a.beta.test', priority: 10 }, { exchange: 'b.beta.test', priority: 10 }, { exchange: 'z.beta.test', priority: 5 }] },
      a: { 'a.beta.test': ['127.0.0.1'], 'b.beta.test': ['127.0.0.2'], 'z.beta.test': ['127.0.0.3'] },
    });
    const low = await planRoute('beta.test', resolver, { ...own, random: () => 0 });
    const high = await planRoute('beta.test', resolver, { ...own, random: () => 0.99 });
    assert.deepEqual(hosts(low), ['z.beta.test', 'b.beta.test', 'a.beta.test']);
    assert.deepEqual(hosts(high), ['z.beta.test', 'a.beta.test', 'b.beta.test']);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i += 1) seen.add(hosts(await planRoute('beta.test', resolver, own)).join(','));
    assert.equal(seen.size, 2, 'with Math.random both orders of the tie should appear');
  });

  it("tries every A and AAAA address of an exchange before the next exchange", async () => {
    const resolver = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'mx2.beta.test', priority: 20 }] },
      a: { 'mx1.beta.test': ['127.0.0.21', '127.0.0.22'], 'mx2.beta.test': ['127.0.0.31'] },
      aaaa: { 'mx1.beta.test': ['::1'], 'mx2.beta.test': ['::2'] },
    });
    const plan = await planRoute('beta.test', resolver, { ...own, random: () => 0.99 });
    assert.deepEqual(addresses(plan), ['127.0.0.21', '127.0.0.22', '::1', '127.0.0.31', '::2']);
  });

  it('tries the addresses of an exchange in random order, IPv4 before IPv6, so a cluster shares the load', async () => {
    const resolver = cachingResolver(scriptedResolver({
      mx: { 'gamma.test': [{ exchange: 'mx1.gamma.test', priority: 10 }] },
      a: { 'mx1.gamma.test': ['127.0.0.30', '127.0.0.31'] },
      aaaa: { 'mx1.gamma.test': ['::30'] },
    }));
    assert.deepEqual(addresses(await planRoute('gamma.test', resolver, { ...own, random: () => 0 })), ['127.0.0.31', '127.0.0.30', '::30']);
    const firsts = new Map<string, number>();
    for (let i = 0; i < 200; i += 1) {
      const [first] = addresses(await planRoute('gamma.test', resolver, own));
      firsts.set(first ?? '', (firsts.get(first ?? '') ?? 0) + 1);
    }
    // The answer comes from the cache (one order for its whole TTL); the planner shuffles it each time.
    assert.deepEqual([...firsts.keys()].sort(), ['127.0.0.30', '127.0.0.31']);
    for (const count of firsts.values()) assert.ok(count >= 60 && count <= 140, `first address ${count} of 200 times`);
  });

  it('uses the domain itself as implicit MX when it has no MX record', async () => {
    const resolver = scriptedResolver({ a: { 'gamma.test': ['127.0.0.40'] } });
    const plan = await planRoute('gamma.test', resolver, own);
    assert.ok(plan.ok);
    assert.deepEqual(plan.exchanges, [{ exchange: 'gamma.test', preference: 0, implicit: true, addresses: ['127.0.0.40'] }]);
  });

  it('fails permanently with 556 5.1.10 on a null MX', async () => {
    const resolver = scriptedResolver({ mx: { 'nomail.test': [{ exchange: '', priority: 0 }] }, a: { 'nomail.test': ['127.0.0.9'] } });
    const plan = await planRoute('nomail.test', resolver, own);
    assert.ok(!plan.ok);
    assert.equal(plan.permanent, true);
    assert.match(routeFailureReply(plan), /^556 5\.1\.10 /);
  });

  it('keeps only exchanges preferred over this MTA when it is in the list (backup MX)', async () => {
    const resolver = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'MX2.beta.test.', priority: 20 }, { exchange: 'mx3.beta.test', priority: 30 }] },
      a: { 'mx1.beta.test': ['127.0.0.21'], 'mx2.beta.test': ['127.0.0.22'], 'mx3.beta.test': ['127.0.0.23'] },
    });
    assert.deepEqual(hosts(await planRoute('beta.test', resolver, { ownHostnames: ['mx2.beta.test'] })), ['mx1.beta.test']);
  });

  it('bounces 5.4.6 when this MTA is the most preferred exchange (nothing left to try)', async () => {
    const resolver = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }, { exchange: 'mx2.beta.test', priority: 10 }] },
      a: { 'mx1.beta.test': ['127.0.0.21'], 'mx2.beta.test': ['127.0.0.22'] },
    });
    const plan = await planRoute('beta.test', resolver, { ownHostnames: ['mx1.beta.test'] });
    assert.ok(!plan.ok);
    assert.equal(plan.permanent, true);
    assert.equal(plan.enhanced, '5.4.6');
  });

  it('fails permanently on NXDOMAIN', async () => {
    const plan = await planRoute('nowhere.test', scriptedResolver({}), own);
    assert.ok(!plan.ok);
    assert.equal(plan.permanent, true);
    assert.match(routeFailureReply(plan), /^550 5\.1\.2 /);
  });

  it('fails temporarily on SERVFAIL and on timeout', async () => {
    for (const code of ['ESERVFAIL', 'ETIMEOUT']) {
      const plan = await planRoute('beta.test', scriptedResolver({ mx: { 'beta.test': code } }), own);
      assert.ok(!plan.ok);
      assert.equal(plan.permanent, false, code);
      assert.match(routeFailureReply(plan), /^451 4\.4\.3 /);
    }
    const noAddress = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }] },
      a: { 'mx1.beta.test': 'ETIMEOUT' },
    });
    const plan = await planRoute('beta.test', noAddress, own);
    assert.ok(!plan.ok);
    assert.equal(plan.permanent, false);
  });

  it('skips an exchange without addresses and fails permanently when none has any', async () => {
    const resolver = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'gone.beta.test', priority: 5 }, { exchange: 'mx1.beta.test', priority: 10 }] },
      a: { 'mx1.beta.test': ['127.0.0.21'] },
    });
    assert.deepEqual(hosts(await planRoute('beta.test', resolver, own)), ['mx1.beta.test']);
    const none = scriptedResolver({ mx: { 'beta.test': [{ exchange: 'gone.beta.test', priority: 5 }] } });
    const plan = await planRoute('beta.test', none, own);
    assert.ok(!plan.ok);
    assert.equal(plan.permanent, true);
  });

  it('caches answers for their TTL', async () => {
    let clock = 1_000_000;
    const inner = scriptedResolver({
      mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10, ttl: 60 }] },
      a: { 'mx1.beta.test': ['127.0.0.21'] },
      ttl: 30,
    });
    const resolver = cachingResolver(inner, () => clock);
    await planRoute('beta.test', resolver, own);
    await planRoute('beta.test', resolver, own);
    // The absent AAAA record (NODATA) is cached too (RFC 2308), for NEGATIVE_TTL_S.
    assert.deepEqual(inner.queries, ['MX beta.test', 'A mx1.beta.test', 'AAAA mx1.beta.test']);
    clock += 31_000;
    await planRoute('beta.test', resolver, own);
    assert.deepEqual(inner.queries.slice(3), ['A mx1.beta.test']);
    clock += 30_000;
    await planRoute('beta.test', resolver, own);
    assert.deepEqual(inner.queries.slice(4), ['MX beta.test', 'A mx1.beta.test', 'AAAA mx1.beta.test']);
  });

  it('caches NXDOMAIN and NODATA for NEGATIVE_TTL_S, and tells cached answers from fresh ones', async () => {
    let clock = 1_000_000;
    const inner = scriptedResolver({ mx: { 'beta.test': [{ exchange: 'mx1.beta.test', priority: 10 }] }, a: { 'mx1.beta.test': ['127.0.0.21'] } });
    const resolver = cachingResolver(inner, () => clock);
    const failure = async (query: Promise<unknown>) => query.then(() => assert.fail('expected a DNS error'), (error: unknown) => error);
    const first = await failure(resolver.resolveMx('gone.test'));
    assert.equal((first as NodeJS.ErrnoException).code, 'ENOTFOUND');
    assert.equal(fromCache(first), false);
    const second = await failure(resolver.resolveMx('gone.test'));
    assert.equal((second as NodeJS.ErrnoException).code, 'ENOTFOUND');
    assert.equal(fromCache(second), true);
    assert.equal((await failure(resolver.resolve6('mx1.beta.test', { ttl: true })) as NodeJS.ErrnoException).code, 'ENODATA');
    assert.equal((await failure(resolver.resolve6('mx1.beta.test', { ttl: true })) as NodeJS.ErrnoException).code, 'ENODATA');
    assert.equal(fromCache(await resolver.resolve4('mx1.beta.test', { ttl: true })), false);
    assert.equal(fromCache(await resolver.resolve4('mx1.beta.test', { ttl: true })), true);
    assert.deepEqual(inner.queries, ['MX gone.test', 'AAAA mx1.beta.test', 'A mx1.beta.test']);
    clock += NEGATIVE_TTL_S * 1000;
    await failure(resolver.resolveMx('gone.test'));
    assert.deepEqual(inner.queries.slice(3), ['MX gone.test']);
  });

  it('does not cache failures', async () => {
    const inner = scriptedResolver({ mx: { 'beta.test': 'ESERVFAIL' } });
    const resolver = cachingResolver(inner);
    await planRoute('beta.test', resolver, own);
    await planRoute('beta.test', resolver, own);
    assert.equal(inner.queries.filter((query) => query === 'MX beta.test').length, 2);
  });
});
