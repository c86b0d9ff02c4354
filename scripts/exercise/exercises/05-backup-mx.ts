/**
 * Exercise 5, the backup MX: exactly one "exercise 5" from alice reached bob, and its
 * trail shows it waited on mx2.beta.test (the backup) before mx1.beta.test took it; the
 * answer is its queue id on beta-mx2, read from that Received field.
 */
import { answerWords, answered, expect, type Check } from '../exercise.ts';
import { messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

export const check: Check = async ({ lab, answer }) => {
  const arrived = (await messages(lab, 'bob@beta.test')).filter((m) => subjectIs(m, 5) && m.from === 'alice@alpha.test');
  const hosts = (m: (typeof arrived)[number]) => m.journey.hops.map((hop) => hop.byHost);
  const viaBackup = arrived.filter((m) => {
    const order = hosts(m);
    const backup = order.indexOf('mx2.beta.test');
    return order.indexOf('mx.alpha.test') !== -1 && backup !== -1 && order.indexOf('mx1.beta.test') > backup;
  });
  const ids = viaBackup.flatMap((m) => m.journey.hops.filter((hop) => hop.byHost === 'mx2.beta.test').map((hop) => (hop.id ?? '').toLowerCase()));
  // The queue listing marks an id being delivered right now with '*', as Postfix's mailq
  // does: the id copied with its mark is the same id.
  const words = answerWords(answer).map((word) => word.replace(/\*$/u, ''));
  return [
    expect(viaBackup.length > 0, 'bob has "exercise 5", and its Received trail runs alpha → mx2.beta.test → mx1.beta.test: it waited on the backup', arrived.length > 0 ? 'bob has "exercise 5", but it went straight to mx1.beta.test: stop beta-mx1 before you send' : 'bob@beta.test has no "exercise 5" from alice yet (it waits on beta-mx2 until beta-mx1 is back and the queue is flushed)'),
    expect(arrived.length <= 1, arrived.length === 1 ? 'exactly one copy arrived: the backup kept it and handed it on once' : 'no second copy', `${arrived.length} copies of "exercise 5" arrived: send it once (the check counts every copy)`),
    answered(answer, () => ids.some((id) => words.includes(id)), 'the queue id the message had on beta-mx2 while it waited'),
  ];
};
