/**
 * Exercise 16, forced failures and the queue clock: alice holds a delay warning (a DSN,
 * `Action: delayed`) for her "exercise 16" whose diagnostic is a 4xx from one of beta's
 * MXes, so the message waited in alpha-mta's queue while both turned it away; carol got
 * it afterwards, once; in the no-Docker lab alpha-mta's log shows the deferred attempts.
 * The answer is the DSN's Will-Retry-Until, the time alpha-mta would bounce it.
 */
import { answered, expect, type Check, type Finding } from '../exercise.ts';
import { header, logLines, messages } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

const BETA_MXES = ['mx1.beta.test', 'mx2.beta.test'];

/** The value of a delivery-status field (`Name: value`) in a DSN's source, unfolded. */
function dsnField(source: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'imu').exec(source)?.[1]?.replace(/\s+/gu, ' ').trim();
}

export const check: Check = async ({ lab, answer }) => {
  const warnings = (await messages(lab, 'alice@alpha.test'))
    .filter((m) => /multipart\/report/iu.test(header(m, 'content-type') ?? ''))
    .map((m) => m.source.toString('utf8'))
    .filter((source) => /^Subject: .*\bexercise 16\b/imu.test(source) && /^Action: delayed/imu.test(source));
  const fromBeta = warnings.filter((source) => {
    const diagnostic = dsnField(source, 'Diagnostic-Code') ?? '';
    const remote = (dsnField(source, 'Remote-MTA') ?? '').toLowerCase();
    return /^smtp; *4\d\d /iu.test(diagnostic) && BETA_MXES.some((mx) => remote.includes(mx));
  });
  const until = fromBeta.map((source) => dsnField(source, 'Will-Retry-Until')).filter((value) => value !== undefined);
  const arrived = (await messages(lab, 'carol@beta.test')).filter((m) => subjectIs(m, 16) && m.from === 'alice@alpha.test');
  const findings: Finding[] = [
    expect(
      fromBeta.length > 0,
      'alice has a delay warning for "exercise 16": a beta MX said "not now" and the message waited in alpha-mta\'s queue',
      warnings.length > 0
        ? 'alice has a delay warning for "exercise 16", but its last reply is not a 4xx from a beta MX: put the rule on both beta MXes'
        : 'alice@alpha.test has no delay warning (Action: delayed) for an "exercise 16" yet: with both MXes refusing, move alpha-mta\'s queue clock ten minutes forward',
    ),
    expect(
      arrived.length === 1,
      'carol has "exercise 16", once: alpha-mta kept it through the outage and delivered it after',
      arrived.length > 1 ? `carol has ${arrived.length} copies of "exercise 16": send it once` : 'carol@beta.test has no "exercise 16" from alice yet: remove the rules and retry the message',
    ),
  ];
  const lines = await logLines(lab, 'alpha-mta');
  if (lines !== undefined) {
    const queueIds = new Set(arrived.map((m) => m.journey.hops.find((hop) => hop.agent === 'alpha-mta')?.id ?? ''));
    const deferred = lines.filter((line) => line.event === 'delivery.result' && line.status === 'deferred' && queueIds.has(line.queueId ?? ''));
    findings.push(expect(deferred.length >= 2, `alpha-mta's log: ${deferred.length} deferred attempts for carol's message before it went through`, `alpha-mta's log shows ${deferred.length} deferred attempt(s) for the "exercise 16" carol got (at least 2: the first one, and the one after the clock moved)`));
  }
  const given = Date.parse(answer ?? '');
  findings.push(
    answered(answer, () => until.some((value) => Date.parse(value) === given || (answer ?? '').toLowerCase().includes(value.toLowerCase())), 'until when alpha-mta said it would keep trying (Will-Retry-Until)'),
  );
  return findings;
};
