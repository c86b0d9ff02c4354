/**
 * Exercise 4, a message's journey: "exercise 4" written in the web mail by alice is in
 * bob's INBOX, and the answer names the queue id of its first hop (alpha-mta, where the
 * web mail submitted it), read from the message's own Received field.
 */
import { answerWords, answered, expect, type Check } from '../exercise.ts';
import { header, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

export const check: Check = async ({ lab, answer }) => {
  const fromWebMail = (await messages(lab, 'bob@beta.test')).filter(
    (m) => subjectIs(m, 4) && m.from === 'alice@alpha.test' && /mxlab web mail/iu.test(header(m, 'user-agent') ?? ''),
  );
  const ids = fromWebMail.flatMap((m) => m.journey.hops.filter((hop) => hop.byHost === 'mx.alpha.test' && hop.id).map((hop) => (hop.id ?? '').toLowerCase()));
  const words = answerWords(answer);
  return [
    expect(fromWebMail.length > 0, 'bob has alice\'s "exercise 4", written in the web mail', 'bob@beta.test has no message "exercise 4" that alice wrote in the web mail (http://127.0.0.1:8080) yet'),
    answered(answer, () => ids.some((id) => words.includes(id)), 'the queue id alpha-mta gave the message when the web mail submitted it'),
  ];
};
