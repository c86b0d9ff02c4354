/**
 * Scenarios 1 and 2: N messages from C concurrent SMTP sessions (in worker processes)
 * for bob@beta.test, timed from `go` until all of them are in bob's Maildir and visible
 * over IMAP (STATUS). Ingest enters at beta-mx1's MX port; submission at alpha-mta's
 * submission port with STARTTLS and AUTH, crossing both MTAs.
 */
import { join } from 'node:path';
import { perSecond, round, summarize, type LatencySummary } from '../lib/stats.ts';
import { split, startWorkers } from '../lib/workers.ts';
import type { SmtpJob, SmtpResult } from '../workers/jobs.ts';
import { countMaildir, MailboxCounter, maildirOf, MemoryWatch, waitForCount, type ScenarioContext } from './context.ts';

export const RECIPIENT = 'bob@beta.test';
export const SUBMITTER = 'alice@alpha.test';
/** MX sender: a domain outside the lab, so no lab SPF record speaks against 127.0.0.1. */
export const MX_SENDER = 'loadgen@bench.example';
const POLL_MS = 50;
const STALL_MS = 30_000;

export interface FlowResult {
  messages: number;
  sessions: number;
  accepted: number;
  failed: number;
  /** `go` → every message visible over IMAP. */
  elapsedMs: number | undefined;
  messagesPerSecond: number;
  /** Accepted by the entry MTA, per second (`go` → last 250). */
  acceptedPerSecond: number;
  maildirMs: number | undefined;
  accept: LatencySummary;
  /** Of the delivered messages, how many the filter put in Junk. */
  junked: number;
  peakRssMb: Record<string, number>;
  peaksPerScenario: boolean;
  errors: string[];
}

export async function runFlow(context: ScenarioContext, kind: 'ingest' | 'submission'): Promise<FlowResult> {
  const { options, target } = context;
  const counter = await MailboxCounter.open(target, RECIPIENT);
  const imapCount = async () => (await counter.count('INBOX')) + (await counter.count('Junk'));
  const maildir = maildirOf(target, 'bob');
  const dirCount = async () => (maildir ? (await countMaildir(maildir)) + (await countMaildir(join(maildir, '.Junk'))) : 0);
  const [imapBase, dirBase, junkBase] = [await imapCount(), await dirCount(), await counter.count('Junk')];

  const sessions = split(options.c, options.procs);
  const messages = split(options.n, sessions.length);
  const jobs: SmtpJob[] = sessions.map((count, i) => ({
    host: target.host,
    port: kind === 'ingest' ? target.ports.betaMx1 : target.ports.alphaSubmission,
    sessions: count,
    messages: messages[i] ?? 0,
    bodyBytes: options.size,
    from: kind === 'ingest' ? MX_SENDER : SUBMITTER,
    to: RECIPIENT,
    label: `${kind}-${Date.now()}-${i}`,
    ehloName: 'loadgen.bench.example',
    ...(kind === 'submission' ? { starttls: { ca: target.ca, servername: 'localhost' }, auth: { user: SUBMITTER, password: target.password } } : {}),
  }));
  context.say(`${kind}: ${options.n} messages, ${options.c} sessions in ${jobs.length} processes`);
  const group = await startWorkers<SmtpResult>('smtp', jobs);
  const watch = new MemoryWatch(target);
  const peaksPerScenario = await watch.start();

  const { startedAt, results: pending } = group.go();
  let goal = options.n;
  const settled = pending.then((results) => {
    goal = results.reduce((sum, r) => sum + r.accepted, 0);
    return results;
  });
  const wait = { intervalMs: POLL_MS, stallMs: STALL_MS };
  const maildirDone = maildir ? waitForCount(dirCount, () => dirBase + goal, wait) : Promise.resolve({ value: 0, at: undefined });
  const results = await settled;
  const dirReached = await maildirDone;
  const imapReached = await waitForCount(imapCount, () => imapBase + goal, wait);
  const junked = (await counter.count('Junk')) - junkBase;
  await counter.close();
  const peakRssMb = await watch.stop();

  const accepted = results.reduce((sum, r) => sum + r.accepted, 0);
  const lastAcceptAt = Math.max(...results.map((r) => r.lastAcceptAt));
  const elapsedMs = imapReached.at === undefined ? undefined : imapReached.at - startedAt;
  return {
    messages: options.n,
    sessions: options.c,
    accepted,
    failed: results.reduce((sum, r) => sum + r.failed, 0),
    elapsedMs: elapsedMs === undefined ? undefined : round(elapsedMs),
    messagesPerSecond: elapsedMs === undefined ? Number.NaN : perSecond(accepted, elapsedMs),
    acceptedPerSecond: perSecond(accepted, lastAcceptAt - startedAt),
    maildirMs: dirReached.at === undefined ? undefined : round(dirReached.at - startedAt),
    accept: summarize(results.flatMap((r) => r.latenciesMs)),
    junked,
    peakRssMb,
    peaksPerScenario,
    errors: results.flatMap((r) => r.errors).slice(0, 5),
  };
}
