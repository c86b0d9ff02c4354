/**
 * Exercise 3, an SMTP conversation by hand: a message to carol that entered the chain at
 * beta-mx1's port 25 straight from the trainee (its first hop is by mx1.beta.test, not
 * authenticated, no alpha hop before it), and the queue id beta-mx1 named in its final
 * 250, which the check reads from that message's Received field.
 */
import { answerWords, answered, expect, type Check } from '../exercise.ts';
import { messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

export const check: Check = async ({ lab, answer }) => {
  const direct = (await messages(lab, 'carol@beta.test')).filter((m) => {
    const first = m.journey.hops[0];
    return subjectIs(m, 3) && first?.byHost === 'mx1.beta.test' && !first.authenticated;
  });
  const ids = direct.flatMap((m) => (m.journey.hops[0]?.id ? [m.journey.hops[0].id.toLowerCase()] : []));
  const words = answerWords(answer);
  return [
    expect(direct.length > 0, 'carol has "exercise 3", handed straight to mx1.beta.test\'s port 25', 'carol@beta.test has no message "exercise 3" whose first hop is beta-mx1\'s port 25 (send it to 127.0.0.1:2025 yourself, not through alpha)'),
    answered(answer, () => ids.some((id) => words.includes(id)), 'the queue id beta-mx1 gave in its last 250 reply'),
  ];
};
