/**
 * Exercise 17, a forged From refused by DMARC: bob has the real "exercise 17" from alice,
 * signed by alpha.test and passed by beta-mx1 (spf, dkim and dmarc pass in its
 * Authentication-Results), and no forged one in any folder; in the no-Docker lab
 * beta-mx1's log shows the refusal (action reject, DMARC of alpha.test). The answer is
 * the forged message's SPF result and the policy applied, compared with the lab DNS:
 * `p=` of _dmarc.alpha.test, and SPF `fail` (alpha.test's record ends in `-all`).
 */
import { answered, answerWords, expect, type Check, type Finding } from '../exercise.ts';
import { dnsQuery, header, logLines, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

function txtOf(data: unknown): string {
  return (Array.isArray(data) ? data : [data]).map((part) => (Buffer.isBuffer(part) ? part.toString('utf8') : String(part))).join('');
}

export const check: Check = async ({ lab, answer }) => {
  const inbox = await messages(lab, 'bob@beta.test');
  const junk = await messages(lab, 'bob@beta.test', 'Junk');
  const real = inbox.filter((m) => subjectIs(m, 17, 'real') && m.from === 'alice@alpha.test');
  const passed = real.filter((m) => {
    const checks = m.journey.authenticationResults.find((results) => results.authservId === 'mx1.beta.test' && results.step !== undefined);
    const result = (method: string) => checks?.results.find((item) => item.method === method)?.result;
    return result('spf') === 'pass' && result('dkim') === 'pass' && result('dmarc') === 'pass' && /\bd=alpha\.test\b/u.test(header(m, 'dkim-signature') ?? '');
  });
  const forgedDelivered = [...inbox, ...junk].filter((m) => subjectIs(m, 17, 'forged'));
  const dmarc = (await dnsQuery(lab, '_dmarc.alpha.test', 'TXT')).map((record) => txtOf(record.data)).find((text) => text.startsWith('v=DMARC1'));
  const policy = /\bp=(\w+)/u.exec(dmarc ?? '')?.[1]?.toLowerCase();

  const findings: Finding[] = [
    expect(
      passed.length > 0,
      'bob has alice\'s real "exercise 17 real": signed d=alpha.test, and beta-mx1 found spf=pass, dkim=pass, dmarc=pass',
      real.length > 0
        ? 'bob has "exercise 17 real", but beta-mx1\'s Authentication-Results does not show spf, dkim and dmarc passing: send it through alpha\'s submission port, logged in as alice'
        : 'bob@beta.test has no "exercise 17 real" from alice yet (step 3)',
    ),
    expect(
      forgedDelivered.length === 0,
      'no forged "exercise 17" reached bob, in the INBOX or in Junk',
      'a forged "exercise 17" reached bob: was it sent through alpha\'s submission port instead of straight to beta-mx1?',
    ),
  ];
  const lines = await logLines(lab, 'beta-mx1');
  if (lines !== undefined) {
    const refused = lines.filter((line) => line.msg === 'authentication' && line.action === 'reject' && (line.auth as { dmarc?: { domain?: string } } | undefined)?.dmarc?.domain === 'alpha.test');
    findings.push(expect(refused.length > 0, 'beta-mx1\'s log: it refused a message whose From domain alpha.test failed DMARC', 'beta-mx1\'s log shows no DMARC refusal for alpha.test yet (step 2)'));
  }
  const words = answerWords(answer);
  findings.push(
    answered(
      answer,
      () => policy !== undefined && words.some((word) => /^spf[=:]?fail$/u.test(word) || word === 'fail') && words.some((word) => word === `p=${policy}` || word === policy),
      'the SPF result of the forged message and the DMARC policy beta-mx1 applied, from its reply',
    ),
  );
  return findings;
};
