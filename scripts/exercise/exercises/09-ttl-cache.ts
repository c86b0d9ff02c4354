/**
 * Exercise 9, TTL caching: alice's "exercise 9" reached bob (so alpha-mta looked beta.test
 * up), and the answer is how long alpha-mta may keep beta.test's MX answer: the TTL the
 * lab DNS serves now, or the one in alpha-mta's cache (GET /dns), read live.
 */
import { answered, expect, type Check, type Finding } from '../exercise.ts';
import { admin, dnsQuery, messages } from '../probes.ts';
import { numberIn, subjectIs } from '../tasks.ts';

interface CacheView {
  entries: { name: string; type: string; ttl: number; secondsLeft: number }[];
}

export const check: Check = async ({ lab, answer }) => {
  const arrived = (await messages(lab, 'bob@beta.test')).filter((m) => subjectIs(m, 9) && m.from === 'alice@alpha.test');
  const served = (await dnsQuery(lab, 'beta.test', 'MX')).map((record) => record.ttl);
  const cached = (await admin<CacheView>(lab, 'alpha-mta', '/dns')).entries.filter((entry) => entry.name === 'beta.test' && entry.type === 'MX');
  const ttls = new Set([...served, ...cached.map((entry) => entry.ttl)]);
  const given = numberIn(answer);
  const findings: Finding[] = [
    expect(arrived.length > 0, 'bob has alice\'s "exercise 9": alpha-mta looked up beta.test for it', 'bob@beta.test has no "exercise 9" from alice yet'),
    answered(answer, () => given !== undefined && ttls.has(given), 'how many seconds alpha-mta may keep beta.test\'s MX answer in its cache'),
  ];
  const entry = cached[0];
  if (entry !== undefined) findings.push({ ok: true, text: `(alpha-mta holds beta.test MX for ${entry.secondsLeft} s more)` });
  return findings;
};
