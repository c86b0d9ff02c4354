import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fakeDns, LAB_ZONE } from '../testing/fake-dns.ts';
import { checkSpf, MAX_SPF_DNS_TERMS, normalizeClientAddress } from './spf.ts';

describe('SPF check_host', () => {
  it('passes the lab MX address and fails any other for "v=spf1 mx -all"', async () => {
    const dns = fakeDns();
    assert.deepEqual(await checkSpf(dns, '127.28.0.10', 'alpha.test'), { result: 'pass', domain: 'alpha.test', record: 'v=spf1 mx -all', mechanism: 'mx' });
    assert.equal((await checkSpf(dns, '::ffff:127.28.0.21', 'beta.test')).result, 'pass');
    const fail = await checkSpf(dns, '127.0.0.1', 'alpha.test');
    assert.equal(fail.result, 'fail');
    assert.equal(fail.mechanism, '-all');
  });

  it('knows none, ~all, ?all, a, ip4, ip6 with CIDR, include and redirect', async () => {
    const dns = fakeDns({
      ...LAB_ZONE,
      txt: {
        ...LAB_ZONE.txt,
        'soft.test': ['v=spf1 ip4:10.0.0.0/8 ~all'],
        'neutral.test': ['v=spf1 ?all'],
        'a.test': ['v=spf1 a/24 -all'],
        'v6.test': ['v=spf1 ip6:2001:db8::/32 -all'],
        'inc.test': ['v=spf1 include:alpha.test -all'],
        'redir.test': ['v=spf1 redirect=beta.test'],
        'two.test': ['v=spf1 -all', 'v=spf1 +all'],
        'bad.test': ['v=spf1 frobnicate -all'],
        'other.test': ['some verification token'],
      },
      a: { ...LAB_ZONE.a, 'a.test': ['192.0.2.1'] },
    });
    const result = async (ip: string, domain: string) => (await checkSpf(dns, ip, domain)).result;
    assert.equal(await result('10.1.2.3', 'soft.test'), 'pass');
    assert.equal(await result('11.1.2.3', 'soft.test'), 'softfail');
    assert.equal(await result('11.1.2.3', 'neutral.test'), 'neutral');
    assert.equal(await result('192.0.2.77', 'a.test'), 'pass');
    assert.equal(await result('192.0.3.1', 'a.test'), 'fail');
    assert.equal(await result('2001:db8::5', 'v6.test'), 'pass');
    assert.equal(await result('2001:db9::5', 'v6.test'), 'fail');
    assert.equal(await result('127.28.0.10', 'inc.test'), 'pass');
    assert.equal(await result('127.28.0.99', 'inc.test'), 'fail');
    assert.equal(await result('127.28.0.20', 'redir.test'), 'pass');
    assert.equal(await result('127.0.0.1', 'redir.test'), 'fail');
    assert.equal(await result('127.0.0.1', 'other.test'), 'none');
    assert.equal(await result('127.0.0.1', 'nowhere.test'), 'none');
    assert.equal(await result('127.0.0.1', 'two.test'), 'permerror');
    assert.equal(await result('127.0.0.1', 'bad.test'), 'permerror');
    assert.equal(await result('not-an-ip', 'alpha.test'), 'permerror');
  });

  it('stops include loops at the DNS lookup limit', async () => {
    const dns = fakeDns({ txt: { 'loop.test': ['v=spf1 include:loop.test -all'] } });
    const outcome = await checkSpf(dns, '127.0.0.1', 'loop.test');
    assert.equal(outcome.result, 'permerror');
    assert.ok(dns.queries.length <= MAX_SPF_DNS_TERMS + 2, `${dns.queries.length} queries`);
  });

  it('is a temperror when the lab DNS does not answer', async () => {
    const outcome = await checkSpf(fakeDns({ failing: ['alpha.test'] }), '127.28.0.10', 'alpha.test');
    assert.equal(outcome.result, 'temperror');
    assert.match(outcome.reason ?? '', /ETIMEOUT/);
  });

  it('unmaps IPv4-mapped IPv6 client addresses', () => {
    assert.equal(normalizeClientAddress('::FFFF:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeClientAddress('::1'), '::1');
  });
});
