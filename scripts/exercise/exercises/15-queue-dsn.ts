/**
 * Exercise 15, the queue, a retry and a bounce: "exercise 15" reached bob after waiting
 * in alpha-mta's queue (no-Docker lab: alpha-mta's log shows a deferred attempt for its
 * queue id; compose: its hops are at least RETRY_EVIDENCE_MS apart), alice holds the
 * DSN for her "exercise 15" to a user who does not exist, and the answer is the status
 * code that DSN reports.
 */
import { answerWords, answered, expect, type Check } from '../exercise.ts';
import { header, logLines, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

/** A message that waited for a retry spent at least the first retry delay in the queue. */
const RETRY_EVIDENCE_MS = 5_000;

export const check: Check = async ({ lab, answer }) => {
  const arrived = (await messages(lab, 'bob@beta.test')).filter((m) => subjectIs(m, 15) && m.from === 'alice@alpha.test');
  const lines = await logLines(lab, 'alpha-mta');
  const waited = arrived.filter((m) => {
    const hops = m.journey.hops;
    const atAlpha = hops.findIndex((hop) => hop.byHost === 'mx.alpha.test');
    const id = hops[atAlpha]?.id;
    if (lines !== undefined) return lines.some((line) => line.event === 'delivery.result' && line.queueId === id && line.status === 'deferred');
    return (hops[atAlpha + 1]?.delayMs ?? 0) >= RETRY_EVIDENCE_MS;
  });
  const dsns = (await messages(lab, 'alice@alpha.test')).filter(
    (m) => /multipart\/report/iu.test(header(m, 'content-type') ?? '') && /^Subject: .*\bexercise 15\b/imu.test(m.source.toString('utf8')),
  );
  const statuses = dsns.flatMap((m) => [...m.source.toString('utf8').matchAll(/^Status: (\d\.\d{1,3}\.\d{1,3})/gmu)].map((match) => match[1] ?? ''));
  const words = answerWords(answer);
  return [
    expect(waited.length > 0, 'bob has "exercise 15", and it waited in alpha-mta\'s queue for a retry first', arrived.length > 0 ? 'bob has "exercise 15", but it never waited: stop both beta MXes before you send, and let alpha-mta retry' : 'bob@beta.test has no "exercise 15" from alice yet that waited in alpha-mta\'s queue'),
    expect(dsns.length > 0, 'alice got a delivery status notification (bounce) for an "exercise 15"', 'alice@alpha.test has no bounce for an "exercise 15" message yet (send one to a user beta.test does not have)'),
    answered(answer, () => statuses.some((status) => words.includes(status)), 'the Status the bounce reports for the failed recipient'),
  ];
};
