/**
 * Exercise 8, several A records: erin holds at least MIN_MESSAGES of alice's "exercise 8"
 * that went from alpha-mta straight to mx1.gamma.test (no backup, no wait) and were all
 * taken by one of its two servers, the other being down; in the no-Docker lab alpha-mta's
 * log shows it was refused at the other's address and went on within the same attempt.
 * The answer is the address of the server that was down, one of mx1.gamma.test's A records.
 */
import { answerWords, answered, expect, type Check, type Finding } from '../exercise.ts';
import { dnsQuery, logLines, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

/** Ten messages: with both servers up, all ten on one of them happens once in 500 tries. */
const MIN_MESSAGES = 10;
/** A message that went on to the second address in the same attempt did not wait this long. */
const NO_WAIT_MS = 5_000;
const INSTANCES = ['gamma-mx1a', 'gamma-mx1b'] as const;

export const check: Check = async ({ lab, answer }) => {
  const sent = (await messages(lab, 'erin@gamma.test')).filter((m) => subjectIs(m, 8) && m.from === 'alice@alpha.test');
  const direct = sent.filter((m) => {
    const [first, second] = m.journey.hops;
    return first?.agent === 'alpha-mta' && (INSTANCES as readonly string[]).includes(second?.agent ?? '') && (second?.delayMs ?? 0) < NO_WAIT_MS;
  });
  const takers = [...new Set(direct.map((m) => m.journey.hops[1]?.agent ?? ''))];
  const up = takers.length === 1 ? takers[0] : undefined;
  const down = INSTANCES.find((instance) => up !== undefined && instance !== up);
  const downAddress = down === undefined ? undefined : lab.address(down);
  const upAddress = up === undefined ? undefined : lab.address(up as (typeof INSTANCES)[number]);
  const records = (await dnsQuery(lab, 'mx1.gamma.test', 'A')).map((record) => String(record.data));
  const findings: Finding[] = [
    expect(
      direct.length >= MIN_MESSAGES,
      `erin has ${direct.length} "exercise 8" from alice, each handed straight to mx1.gamma.test without waiting`,
      `erin has ${direct.length} "exercise 8" from alice that went straight to mx1.gamma.test (${MIN_MESSAGES} needed${sent.length > direct.length ? `; ${sent.length - direct.length} others waited or went through a backup` : ''})`,
    ),
    expect(
      direct.length >= MIN_MESSAGES && up !== undefined,
      `all of them were taken by ${up ?? ''}: its twin ${down ?? ''} was down, and alpha-mta went on to the other address`,
      takers.length > 1 ? 'both servers of mx1.gamma.test took some of them: stop one of the two before you send' : 'not enough messages yet to see which server took them',
    ),
  ];
  const lines = await logLines(lab, 'alpha-mta');
  if (lines !== undefined && downAddress !== undefined && upAddress !== undefined) {
    const ids = new Set(direct.map((m) => m.journey.hops[0]?.id ?? ''));
    const attempts = lines.filter((line) => line.event === 'delivery.attempt' && ids.has(line.queueId ?? '') && line.exchange === 'mx1.gamma.test');
    const refused = attempts.filter((line) => line.address === downAddress && line.result === 'temporary');
    const movedOn = refused.filter((line) => attempts.some((other) => other.queueId === line.queueId && other.address === upAddress && other.result === 'transaction'));
    findings.push(
      expect(movedOn.length > 0, `alpha-mta's log: refused at ${downAddress}, it went on to ${upAddress} in the same attempt (${movedOn.length} of your messages)`, `alpha-mta's log shows no attempt of yours refused at ${downAddress} and then taken at ${upAddress}`),
    );
  }
  const words = answerWords(answer);
  findings.push(answered(answer, () => downAddress !== undefined && records.includes(downAddress) && words.includes(downAddress), 'the address of the mx1.gamma.test server that was down'));
  return findings;
};
