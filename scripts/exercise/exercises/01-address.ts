/**
 * Exercise 1, the two halves of an address: alice's message to carol@beta.test reached
 * beta's MX (the domain half) and carol's own mailbox (the local half); the one to
 * postmaster@beta.test landed in bob's, whose alias postmaster is.
 */
import { expect, type Check } from '../exercise.ts';
import { header, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

export const check: Check = async ({ lab }) => {
  const toCarol = (await messages(lab, 'carol@beta.test')).filter((m) => subjectIs(m, 1) && m.from === 'alice@alpha.test');
  const atBob = (await messages(lab, 'bob@beta.test')).filter((m) => subjectIs(m, 1) && /postmaster@beta\.test/iu.test(header(m, 'to') ?? ''));
  const viaBeta = toCarol.find((m) => m.journey.hops.some((hop) => hop.byHost === 'mx1.beta.test'));
  return [
    expect(toCarol.length > 0, 'carol has alice\'s message "exercise 1" in her INBOX', 'carol@beta.test has no message from alice@alpha.test with the subject "exercise 1" yet'),
    expect(viaBeta !== undefined, 'it came in through mx1.beta.test, the host the domain half beta.test led to', 'no "exercise 1" message in carol\'s INBOX shows a Received field "by mx1.beta.test"'),
    expect(atBob.length > 0, 'the message to postmaster@beta.test is in bob\'s INBOX: the local part postmaster is bob\'s alias', 'no message "exercise 1" addressed to postmaster@beta.test has reached a mailbox of beta.test yet'),
  ];
};
