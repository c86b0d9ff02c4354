/**
 * Exercise 6, the own-name rule: "exercise 6" entered the chain at beta-mx2 itself (its
 * first hop is by mx2.beta.test), waited there and went on to mx1.beta.test only; in the
 * no-Docker lab, beta-mx2's log shows it tried no exchange but those of lower preference
 * than its own. The answer names those exchanges, derived from the lab DNS.
 */
import { answerWords, answered, expect, type Check, type Finding } from '../exercise.ts';
import { dnsQuery, logLines, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

const OWN_NAME = 'mx2.beta.test';
const bare = (name: string) => name.toLowerCase().replace(/\.$/u, '');

export const check: Check = async ({ lab, answer }) => {
  const mx = (await dnsQuery(lab, 'beta.test', 'MX')).map((record) => record.data as { preference: number; exchange: string });
  const own = mx.find((record) => bare(record.exchange) === OWN_NAME);
  const allowed = mx.filter((record) => own !== undefined && record.preference < own.preference).map((record) => bare(record.exchange));
  const arrived = (await messages(lab, 'bob@beta.test')).filter((m) => {
    const [first, second] = m.journey.hops;
    return subjectIs(m, 6) && first?.byHost === OWN_NAME && second?.byHost === 'mx1.beta.test';
  });
  const findings: Finding[] = [
    expect(arrived.length > 0, 'bob has "exercise 6": it entered at beta-mx2 and went on to mx1.beta.test', 'bob@beta.test has no "exercise 6" that was handed to beta-mx2 (port 3025) first and then to mx1.beta.test'),
  ];
  const queueId = arrived[0]?.journey.hops[0]?.id;
  const lines = await logLines(lab, 'beta-mx2');
  if (lines !== undefined && queueId !== undefined) {
    const attempts = lines.filter((line) => line.event === 'delivery.attempt' && line.queueId === queueId);
    const tried = [...new Set(attempts.map((line) => String(line.exchange)))];
    const waited = lines.some((line) => line.event === 'delivery.result' && line.queueId === queueId && line.status === 'deferred');
    findings.push(
      expect(waited, `beta-mx2 kept ${queueId} while mx1.beta.test was down`, `beta-mx2 delivered ${queueId} at the first try: stop beta-mx1 before you send, so you see the backup wait`),
      expect(tried.length > 0 && tried.every((name) => allowed.includes(bare(name))), `beta-mx2 tried only ${tried.join(', ')}, never itself`, `beta-mx2's log shows attempts to ${tried.join(', ') || 'nobody'} for ${queueId}`),
    );
  }
  const words = answerWords(answer).map(bare);
  findings.push(answered(answer, () => allowed.length > 0 && allowed.every((name) => words.includes(name)) && !words.includes(OWN_NAME), 'every exchange beta-mx2 may hand beta.test\'s mail to'));
  return findings;
};
