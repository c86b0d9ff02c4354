/**
 * Exercise 13, the caller: alice's EICAR message came back to her as a bounce naming the
 * virus (beta-mx1 refused it after the caller's verdict), her GTUBE message is in bob's
 * Junk flagged as spam, and the answer is that message's X-Spam-Score, read from it.
 */
import { answered, expect, type Check } from '../exercise.ts';
import { header, messages } from '../probes.ts';
import { numberIn, subjectIs } from '../tasks.ts';

export const check: Check = async ({ lab, answer }) => {
  const bounces = (await messages(lab, 'alice@alpha.test')).filter((m) => {
    const text = m.source.toString('utf8');
    return /multipart\/report/iu.test(header(m, 'content-type') ?? '') && /virus found/iu.test(text) && /^Subject: .*\bexercise 13\b/imu.test(text);
  });
  const junk = (await messages(lab, 'bob@beta.test', 'Junk')).filter((m) => subjectIs(m, 13) && /^yes$/iu.test(header(m, 'x-spam-flag') ?? ''));
  const scores = junk.flatMap((m) => {
    const score = numberIn(header(m, 'x-spam-score'));
    return score === undefined ? [] : [score];
  });
  const given = numberIn(answer);
  return [
    expect(bounces.length > 0, 'alice got the bounce for her EICAR message: beta-mx1 refused it as a virus', 'alice@alpha.test has no bounce saying "virus found" for an "exercise 13" message yet'),
    expect(junk.length > 0, 'bob\'s Junk folder holds "exercise 13", flagged X-Spam-Flag: YES', 'bob@beta.test\'s Junk folder has no "exercise 13" flagged as spam yet'),
    answered(answer, () => given !== undefined && scores.includes(given), 'the X-Spam-Score the caller gave the message in bob\'s Junk'),
  ];
};
