/**
 * Exercise 16, forced failures: a chaos rule on beta-mx1 answered a temporary failure
 * (4xx) and fired at least once (GET /chaos/rules), alice's "exercise 16" reached carol
 * all the same (in the no-Docker lab, alpha-mta's log shows it deferred first), and the
 * answer is how many times the rule fired, read from beta-mx1.
 */
import { answered, expect, type Check, type Finding } from '../exercise.ts';
import { admin, logLines, messages } from '../probes.ts';
import { numberIn, subjectIs } from '../tasks.ts';

interface RuleView {
  id: string;
  stage: string;
  reply?: { code: number; text?: string };
  fired: number;
}

export const check: Check = async ({ lab, answer }) => {
  const rules = (await admin<{ rules: RuleView[] }>(lab, 'beta-mx1', '/chaos/rules')).rules;
  const temporary = rules.filter((rule) => rule.reply !== undefined && rule.reply.code >= 400 && rule.reply.code < 500);
  const fired = temporary.filter((rule) => rule.fired > 0);
  const arrived = (await messages(lab, 'carol@beta.test')).filter((m) => subjectIs(m, 16) && m.from === 'alice@alpha.test');
  const findings: Finding[] = [
    expect(
      fired.length > 0,
      `beta-mx1's rule ${fired.map((rule) => `"${rule.id}"`).join(', ')} answered ${fired[0]?.reply?.code ?? ''} and fired ${fired[0]?.fired ?? 0} time(s)`,
      temporary.length > 0 ? `beta-mx1 has the rule(s) ${temporary.map((rule) => `"${rule.id}"`).join(', ')}, but none fired yet: send the message` : 'beta-mx1 has no chaos rule that answers a temporary failure (4xx): add one with POST /chaos/rules',
    ),
    expect(arrived.length > 0, 'carol has alice\'s "exercise 16": the failure was temporary, so alpha-mta tried again', 'carol@beta.test has no "exercise 16" from alice yet (alpha-mta retries after the 4xx; POST /queue/<id>/retry makes it try now)'),
  ];
  const lines = await logLines(lab, 'alpha-mta');
  const id = arrived[0]?.journey.hops.find((hop) => hop.byHost === 'mx.alpha.test')?.id;
  if (lines !== undefined && id !== undefined) {
    const deferred = lines.some((line) => line.event === 'delivery.result' && line.queueId === id && line.status === 'deferred');
    findings.push(expect(deferred, `alpha-mta's log shows ${id} deferred before it was delivered`, `alpha-mta delivered ${id} at the first try: add the rule before you send`));
  }
  const given = numberIn(answer);
  findings.push(answered(answer, () => given !== undefined && temporary.some((rule) => rule.fired === given && given > 0), 'how many times your rule fired'));
  return findings;
};
