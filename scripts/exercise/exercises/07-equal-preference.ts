/**
 * Exercise 7, equal preferences share the load: dave holds at least MIN_MESSAGES of
 * alice's "exercise 7" that waited on a backup of gamma.test (their trail runs alpha-mta →
 * gamma-mx2 or gamma-mx3 → mx1.gamma.test), both backups took a fair share, and the
 * answer gives how many each took (mx2's count, then mx3's), counted from those trails.
 */
import { answered, expect, type Check } from '../exercise.ts';
import { messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

/** Enough messages that a fair coin almost never gives one backup less than MIN_SHARE of them. */
const MIN_MESSAGES = 50;
/** With 50 messages, one backup below a fifth happens about once in 100 000 runs. */
const MIN_SHARE = 0.2;
const BACKUPS = ['gamma-mx2', 'gamma-mx3'] as const;

export const check: Check = async ({ lab, answer }) => {
  const sent = (await messages(lab, 'dave@gamma.test')).filter((m) => subjectIs(m, 7) && m.from === 'alice@alpha.test');
  const agents = (m: (typeof sent)[number]) => m.journey.hops.map((hop) => hop.agent);
  const viaBackup = sent.filter((m) => {
    const [first, second, third] = agents(m);
    return first === 'alpha-mta' && (BACKUPS as readonly string[]).includes(second ?? '') && /^gamma-mx1[ab]$/u.test(third ?? '');
  });
  const counts = BACKUPS.map((backup) => viaBackup.filter((m) => agents(m)[1] === backup).length);
  const [mx2 = 0, mx3 = 0] = counts;
  const total = mx2 + mx3;
  const straight = sent.length - total;
  const numbers = [...(answer ?? '').matchAll(/\d+/gu)].map((match) => Number(match[0]));
  return [
    expect(
      total >= MIN_MESSAGES,
      `dave has ${total} "exercise 7" from alice that waited on a backup of gamma.test`,
      total === 0 && straight > 0
        ? `dave's ${straight} "exercise 7" went straight to mx1.gamma.test: stop gamma-mx1a and gamma-mx1b before you send`
        : `dave has ${total} "exercise 7" from alice that waited on a backup (at least ${MIN_MESSAGES} needed: the backups hand theirs over once mx1 is back and they are flushed)`,
    ),
    expect(
      total >= MIN_MESSAGES && Math.min(mx2, mx3) >= MIN_SHARE * total,
      'both backups took a share: alpha-mta picked between the two equal preferences at random',
      total >= MIN_MESSAGES ? `one backup took almost all of them (${mx2} and ${mx3}): were both backups up?` : 'not enough messages yet to see how the two backups shared them',
    ),
    answered(answer, () => total > 0 && numbers.length >= 2 && numbers[0] === mx2 && numbers[1] === mx3, 'how many messages mx2.gamma.test took, and how many mx3.gamma.test took (in that order)'),
  ];
};
