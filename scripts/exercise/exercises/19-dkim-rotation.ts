/**
 * Exercise 19, a DKIM key rotation: alpha-mta signs alpha.test with lab2 (and nothing
 * else), the lab DNS serves lab2._domainkey.alpha.test with alpha-mta's public key, the
 * old lab1 record is still published, and bob has "exercise 19" signed s=lab2 that
 * beta-mx1 found dkim=pass for. The answer is the TTL the lab DNS gives the old record.
 */
import { answered, expect, type Check } from '../exercise.ts';
import { admin, dnsQuery, header, messages } from '../probes.ts';
import { numberIn, subjectIs } from '../tasks.ts';

interface DkimView {
  domains: { domain: string; signing: string[]; keys: { selector: string; record: string }[] }[];
}

function txtOf(data: unknown): string {
  return (Array.isArray(data) ? data : [data]).map((part) => (Buffer.isBuffer(part) ? part.toString('utf8') : String(part))).join('');
}

const keyData = (record: string) => /(?:^|;)\s*p=([^;]*)/u.exec(record)?.[1]?.replace(/\s+/gu, '');

export const check: Check = async ({ lab, answer }) => {
  const alpha = (await admin<DkimView>(lab, 'alpha-mta', '/dkim')).domains.find((domain) => domain.domain === 'alpha.test');
  const lab2 = alpha?.keys.find((key) => key.selector === 'lab2');
  const published = (await dnsQuery(lab, 'lab2._domainkey.alpha.test', 'TXT').catch(() => [])).map((record) => keyData(txtOf(record.data)));
  const old = await dnsQuery(lab, 'lab1._domainkey.alpha.test', 'TXT').catch(() => []);
  const signed = (await messages(lab, 'bob@beta.test')).filter((m) => subjectIs(m, 19) && m.from === 'alice@alpha.test');
  const passed = signed.filter((m) => {
    const checks = m.journey.authenticationResults.find((results) => results.authservId === 'mx1.beta.test' && results.step !== undefined);
    const dkim = checks?.results.filter((item) => item.method === 'dkim') ?? [];
    return /\bs=lab2\b/u.test(header(m, 'dkim-signature') ?? '') && dkim.some((item) => item.result === 'pass' && item.properties['header.s'] === 'lab2');
  });
  const ttl = old[0]?.ttl;
  return [
    expect(
      lab2 !== undefined && published.includes(keyData(lab2.record)),
      'the lab DNS serves lab2._domainkey.alpha.test with alpha-mta\'s new public key',
      lab2 === undefined ? 'alpha-mta has no key lab2 for alpha.test yet (step 2)' : 'the lab DNS does not serve alpha-mta\'s lab2 public key at lab2._domainkey.alpha.test yet (step 4)',
    ),
    expect(
      alpha?.signing.length === 1 && alpha.signing[0] === 'lab2',
      'alpha-mta signs alpha.test\'s mail with lab2 only',
      `alpha-mta signs alpha.test's mail with ${alpha?.signing.join(', ') || 'nothing'}: switch it to lab2 alone (step 5)`,
    ),
    expect(old.length > 0, 'the old record lab1._domainkey.alpha.test is still published', 'lab1._domainkey.alpha.test is gone from the DNS: mail signed with lab1 can no longer be checked; put it back'),
    expect(
      passed.length > 0,
      'bob has "exercise 19", signed s=lab2, and beta-mx1 found dkim=pass for it',
      signed.length > 0 ? 'bob has "exercise 19", but not signed with lab2 and passed by beta-mx1: send it again after the switch' : 'bob@beta.test has no "exercise 19" from alice yet (step 5)',
    ),
    answered(answer, () => ttl !== undefined && numberIn(answer) === ttl, 'the TTL of the old record, in seconds'),
  ];
};
