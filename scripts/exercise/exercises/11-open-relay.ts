/**
 * Exercise 11, open relays and SASL: beta-mx1 refused a relay probe (in the no-Docker
 * lab its log holds the refusal; the answer must name the reply code and enhanced code it
 * gave, taken from the MTA's own reply table), and bob, logged in over SASL on beta's
 * submission port, sent "exercise 11" to alice at another domain.
 */
import { REPLIES } from '../../../services/mta/smtp/replies.ts';
import { answerWords, answered, expect, type Check, type Finding } from '../exercise.ts';
import { logLines, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

export const check: Check = async ({ lab, answer }) => {
  const relayed = (await messages(lab, 'alice@alpha.test')).filter((m) => {
    const first = m.journey.hops[0];
    return subjectIs(m, 11) && m.from === 'bob@beta.test' && first?.byHost === 'mx1.beta.test' && first.authenticated;
  });
  const { code, enhanced } = REPLIES.relayDenied;
  const findings: Finding[] = [];
  const lines = await logLines(lab, 'beta-mx1');
  if (lines !== undefined) {
    const probes = lines.filter((line) => line.msg === 'refused' && typeof line.reply === 'string' && line.reply.startsWith(`${code} ${enhanced}`));
    findings.push(expect(probes.length > 0, `beta-mx1 refused ${probes.length} relay attempt(s) on port 25`, 'beta-mx1\'s log shows no refused relay attempt yet: try to send from outside to a domain that is not beta\'s, on port 2025'));
  }
  const words = answerWords(answer);
  findings.push(
    answered(answer, () => words.includes(String(code)) && words.includes(enhanced), 'the reply code and the enhanced status code of the refusal'),
    expect(relayed.length > 0, 'alice has bob\'s "exercise 11": beta-mx1 relayed it to another domain because bob logged in (SASL)', 'alice@alpha.test has no "exercise 11" that bob sent logged in through beta-mx1\'s submission port (2587)'),
  );
  return findings;
};
