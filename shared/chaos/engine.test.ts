import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChaosEngine } from './engine.ts';
import { clientAddress } from '../../services/mta/smtp/chaos.ts';

describe('ChaosEngine', () => {
  it('does nothing without rules', () => {
    const chaos = new ChaosEngine();
    assert.deepEqual(chaos.list(), []);
    assert.equal(chaos.smtp('rcpt', { client: '127.0.0.1', rcpts: ['bob@beta.test'] }), undefined);
  });

  it('fires on the first N matching attempts only, for the matching recipient only', () => {
    const chaos = new ChaosEngine();
    assert.equal(chaos.add({ id: 'bob-451', stage: 'rcpt', match: { rcpt: 'bob@beta.test' }, times: 3, reply: { code: 451, enhanced: '4.3.0', text: 'try later' } }).ok, true);
    const bob = () => chaos.smtp('rcpt', { client: '127.0.0.1', rcpts: ['BOB@beta.test'] });
    assert.equal(chaos.smtp('rcpt', { client: '127.0.0.1', rcpts: ['carol@beta.test'] }), undefined);
    for (let i = 0; i < 3; i += 1) assert.deepEqual(bob(), { ruleId: 'bob-451', delayMs: 0, reply: { code: 451, enhanced: '4.3.0', text: 'try later' } });
    assert.equal(bob(), undefined);
    assert.deepEqual(chaos.list().map((rule) => [rule.id, rule.matched, rule.fired]), [['bob-451', 4, 3]]);
  });

  it('fires after N attempts, by pattern, and by chance', () => {
    const random = [0.9, 0.1];
    const chaos = new ChaosEngine({ random: () => random.shift() ?? 0 });
    chaos.add({ stage: 'mail', match: { sender: '*@alpha.test' }, after: 1, reply: { code: 550 } });
    chaos.add({ stage: 'helo', probability: 0.5, reply: { code: 421 } });
    const mail = () => chaos.smtp('mail', { client: '10.0.0.1', sender: 'alice@alpha.test' });
    assert.equal(mail(), undefined);
    assert.equal(mail()?.reply?.enhanced, '5.0.0');
    assert.equal(chaos.smtp('mail', { client: '10.0.0.1', sender: 'x@beta.test' }), undefined);
    assert.equal(chaos.smtp('helo', { client: '10.0.0.1' }), undefined);
    assert.equal(chaos.smtp('helo', { client: '10.0.0.1' })?.reply?.code, 421);
  });

  it('answers more than R attempts per window from one client, counted per client', () => {
    let now = 1_000_000;
    const chaos = new ChaosEngine({ now: () => now });
    chaos.add({ id: 'rate', stage: 'mail', rate: { max: 10, windowSeconds: 60 }, reply: { code: 421, enhanced: '4.7.0', text: 'too fast' } });
    const from = (client: string) => chaos.smtp('mail', { client, sender: 'a@x.test' });
    for (let i = 0; i < 10; i += 1) assert.equal(from('10.0.0.1'), undefined);
    assert.equal(from('10.0.0.1')?.reply?.code, 421);
    assert.equal(from('10.0.0.2'), undefined);
    now += 61_000;
    assert.equal(from('10.0.0.1'), undefined);
  });

  it('drops rules when their time is up, and bounds every lifetime', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const chaos = new ChaosEngine({ now: () => now });
    assert.equal(chaos.add({ stage: 'rcpt', reply: { code: 451 }, durationSeconds: 5 }).ok, true);
    now += 5_000;
    assert.deepEqual(chaos.list(), []);
    const far = chaos.add({ stage: 'rcpt', reply: { code: 451 }, until: '2027-01-01T00:00:00Z' });
    assert.equal(far.ok, false);
    assert.equal(chaos.add({ stage: 'rcpt', reply: { code: 451 }, durationSeconds: 90_000 }).ok, false);
    const fallback = chaos.add({ stage: 'rcpt', reply: { code: 451 } });
    assert.equal(fallback.ok && fallback.value.expiresAt, '2026-01-01T01:00:05.000Z');
  });

  it('refuses bad rules with the field named', () => {
    const chaos = new ChaosEngine();
    const error = (rule: unknown) => {
      const result = chaos.add(rule);
      return result.ok ? 'accepted' : result.error;
    };
    assert.match(error({ stage: 'quit', reply: { code: 421 } }), /^stage: /u);
    assert.match(error({ stage: 'rcpt', reply: { code: 250 } }), /^reply\.code: /u);
    assert.match(error({ stage: 'rcpt' }), /^reply: a rule needs/u);
    assert.match(error({ stage: 'rcpt', reply: { code: 451, enhanced: '5.7.1' } }), /^reply\.enhanced: /u);
    assert.match(error({ stage: 'rcpt', reply: { code: 451, text: 'a\r\n250 ok' } }), /^reply\.text: /u);
    assert.match(error({ stage: 'rcpt', blackhole: true }), /^blackhole: /u);
    assert.match(error({ stage: 'rcpt', drop: 'mid-data' }), /^drop: /u);
    assert.match(error({ stage: 'helo', match: { rcpt: 'bob@beta.test' }, reply: { code: 451 } }), /^match\.rcpt: /u);
    assert.match(error({ stage: 'rcpt', reply: { code: 451 }, colour: 'red' }), /colour/u);
    assert.match(error({ stage: 'dns', match: { name: 'beta.test' }, fault: 'replace' }), /^match\.type: .*; answer: /u);
    assert.match(error({ stage: 'dns', match: { name: 'beta.test', type: 'MX' }, fault: 'replace', answer: ['127.0.0.1'] }), /^answer\.0: /u);
    assert.match(error({ stage: 'outbound', fault: 'explode' }), /^fault: /u);
    assert.deepEqual(chaos.list(), []);
  });

  it('only blackholes when asked', () => {
    const chaos = new ChaosEngine();
    chaos.add({ stage: 'after-data', reply: { code: 451 } });
    assert.equal(chaos.smtp('after-data', { client: '127.0.0.1' })?.blackhole, undefined);
    chaos.clear();
    chaos.add({ stage: 'after-data', blackhole: true });
    assert.equal(chaos.smtp('after-data', { client: '127.0.0.1' })?.blackhole, true);
  });

  it('replaces a whole plan or nothing', () => {
    const chaos = new ChaosEngine();
    chaos.add({ id: 'keep', stage: 'mail', reply: { code: 451 } });
    const bad = chaos.replace({ rules: [{ id: 'a', stage: 'mail', reply: { code: 451 } }, { id: 'a', stage: 'rcpt', reply: { code: 451 } }] });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /rules\.1\.id: a is given twice/u);
    assert.deepEqual(chaos.list().map((rule) => rule.id), ['keep']);
    assert.equal(chaos.replace({ rules: [{ id: 'new', stage: 'outbound', fault: 'refuse' }] }).ok, true);
    assert.deepEqual(chaos.list().map((rule) => rule.id), ['new']);
    assert.equal(chaos.outbound({ domain: 'beta.test', exchange: 'mx1.beta.test', address: '127.0.0.1' })?.fault, 'refuse');
  });

  it('matches DNS questions by name and type', () => {
    const chaos = new ChaosEngine();
    chaos.add({ id: 'mx', stage: 'dns', match: { name: 'beta.test', type: 'MX' }, fault: 'servfail' });
    assert.equal(chaos.dns('beta.test.', 'MX')?.fault, 'servfail');
    assert.equal(chaos.dns('beta.test', 'A'), undefined);
    assert.equal(chaos.dns('alpha.test', 'MX'), undefined);
  });

  it('names IPv4 clients without the IPv6 mapping', () => {
    assert.equal(clientAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(clientAddress('::1'), '::1');
  });
});
