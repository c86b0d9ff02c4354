/**
 * Exercise 18, a body changed on the way: alice holds the bounce for her "exercise 18"
 * whose diagnostic is beta-mx1's DMARC refusal naming dkim=fail, and whose copy of the
 * headers carries the Authentication-Results of a server that found dkim=pass before it
 * relayed the message; beta-mx2 keeps no alter-body rule once done. The answer is that
 * server (its name in the field, or its agent name), read from the bounce itself.
 */
import { answerWords, answered, expect, type Check } from '../exercise.ts';
import { admin, header, messages } from '../probes.ts';

/** `mx2.beta.test` → also `beta-mx2`, the agent's name in the lab. */
function namesOf(host: string): string[] {
  const agent = /^(mx\d?)\.(\w+)\.test$/u.exec(host);
  return agent ? [host, agent[1] === 'mx' ? `${agent[2]}-mta` : `${agent[2]}-${agent[1]}`] : [host];
}

export const check: Check = async ({ lab, answer }) => {
  const bounces = (await messages(lab, 'alice@alpha.test'))
    .filter((m) => /multipart\/report/iu.test(header(m, 'content-type') ?? ''))
    .map((m) => m.source.toString('utf8').replace(/\r?\n[ \t]+/gu, ' '))
    .filter((text) => /^Subject: .*\bexercise 18\b/imu.test(text));
  const refused = bounces.filter((text) => /^Diagnostic-Code: smtp; *550 5\.7\.1 .*DMARC.*dkim=fail/imu.test(text));
  // The servers whose own check, kept in the bounce's copy of the headers, found dkim=pass.
  const passedAt = new Set(refused.flatMap((text) => [...text.matchAll(/^Authentication-Results: ([\w.-]+);[^\r\n]*\bdkim=pass\b/gimu)].map((match) => (match[1] ?? '').toLowerCase())));
  const rules = await admin<{ rules: { fault?: string }[] }>(lab, 'beta-mx2', '/chaos/rules').catch(() => ({ rules: [] }));
  const words = answerWords(answer);
  return [
    expect(
      refused.length > 0,
      'alice has the bounce for "exercise 18": beta-mx1 refused it (550 5.7.1, DMARC) because its DKIM signature no longer verified',
      bounces.length > 0
        ? 'alice has a bounce for "exercise 18", but not beta-mx1\'s DMARC refusal with dkim=fail: was the alter-body rule on beta-mx2 when it handed the message over?'
        : 'alice@alpha.test has no bounce for an "exercise 18" yet (steps 1 to 4)',
    ),
    expect(
      passedAt.size > 0,
      `the bounce's copy of the headers holds the check of ${[...passedAt].join(', ')}: dkim=pass, before it sent the message on`,
      'the bounce shows no Authentication-Results with dkim=pass yet',
    ),
    expect(
      !rules.rules.some((rule) => rule.fault === 'alter-body'),
      'beta-mx2 alters nothing any more: the rule is gone',
      'beta-mx2 still has an alter-body rule: remove it (step 5)',
    ),
    answered(answer, () => [...passedAt].some((host) => namesOf(host).some((name) => words.includes(name))), 'which hop changed the message'),
  ];
};
