/**
 * Scenario `parity` (issue 14): mxlab beside Debian's Postfix + Dovecot, started here on
 * a loopback address of their own, each measurement run on one side then the other,
 * back to back, with the load average beside each figure and mxlab/reference as ratios
 * (≥ 1 is at or above the reference; for latencies the ratio is reference/mxlab).
 * Without the packages (or root) only mxlab's side is measured.
 */
import { chown, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { addUsers } from '../lib/bench-users.ts';
import { fillMaildir } from '../lib/maildir-gen.ts';
import { REFERENCE_MAIL_GID, REFERENCE_MAIL_UID, referenceAvailable, startReferenceStack, type ReferenceStack } from '../lib/reference-stack.ts';
import { round } from '../lib/stats.ts';
import {
  measureFetchEnvelope,
  measureGreeting,
  measurePerConnection,
  measurePop3User,
  type FetchEnvelopeResult,
  type GreetingResult,
  type PerConnectionResult,
  type Pop3UserResult,
  type Side,
} from './parity-probes.ts';
import { MX_SENDER, RECIPIENT } from './smtp-flow.ts';
import { BENCH_DOMAIN, maildirOf, type ScenarioContext } from './context.ts';

/** Loopback net of the reference stack (BENCH_REFERENCE_NET overrides it). */
export const REFERENCE_LOOPBACK_NET = '127.32';
const PARITY_LOCAL = 'parity';
const GREETINGS = 30;
/**
 * Greetings measured on a server in use: after smtp-source's connections (one per message)
 * on both sides. The cold figure (the first GREETINGS after a start) is kept beside it: V8
 * runs the connection path in its interpreter for the first few hundred connections, where
 * Postfix's C is as fast on the first as on the thousandth (bench/FINDINGS.md).
 */
const WARM_GREETINGS = 500;
const POP3_SESSIONS = 8;
const FETCH_CLIENTS = 8;
const FETCH_ROUNDS = 5;
/** Runs of each short measurement (greeting, POP3), alternating sides; the median is kept. */
const REPEATS = 3;

export interface Paired<T> {
  mxlab: T;
  reference: T | undefined;
  /** mxlab / reference for throughput, reference / mxlab for latency: ≥ 1 meets the reference. */
  ratio: number | undefined;
}

export interface ParityResult {
  reference: string;
  /** On a server in use (after the SMTP per-connection run): the headline row. */
  greeting: Paired<GreetingResult>;
  /** The first GREETINGS connections after a start, before any mail. */
  greetingCold: Paired<GreetingResult>;
  smtpPerConnection: Paired<PerConnectionResult>;
  pop3FirstSession: Paired<Pop3UserResult>;
  /** The sessions right after the first: the MRA's first few thousand RETRs after a start. */
  pop3OneSessionEarly: Paired<Pop3UserResult>;
  /** On a server in use (after the 8-session runs): the headline row. */
  pop3OneSession: Paired<Pop3UserResult>;
  pop3EightSessions: Paired<Pop3UserResult>;
  fetchEnvelope: Paired<FetchEnvelopeResult>;
  /** Headline ratios, for the figures table. */
  smtpPerConnectionRatio: number | undefined;
  greetingRatio: number | undefined;
  greetingColdRatio: number | undefined;
  pop3OneSessionRatio: number | undefined;
  pop3OneSessionEarlyRatio: number | undefined;
  pop3EightSessionsRatio: number | undefined;
  fetchEnvelopeP99Ratio: number | undefined;
  smtpPerConnectionMessagesPerSecond: number;
  greetingP50Ms: number;
  pop3OneSessionMessagesPerSecond: number;
  pop3EightSessionsMessagesPerSecond: number;
  fetchEnvelopeP99Ms: number;
}

function ratio(mine: number, theirs: number | undefined, higherIsBetter: boolean): number | undefined {
  if (theirs === undefined || !Number.isFinite(mine) || !Number.isFinite(theirs) || mine <= 0 || theirs <= 0) return undefined;
  return round(higherIsBetter ? mine / theirs : theirs / mine);
}

async function chownTree(dir: string): Promise<void> {
  await chown(dir, REFERENCE_MAIL_UID, REFERENCE_MAIL_GID);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path);
    else await chown(path, REFERENCE_MAIL_UID, REFERENCE_MAIL_GID);
  }
}

async function startReference(context: ScenarioContext): Promise<ReferenceStack | undefined> {
  if (!(await referenceAvailable())) {
    context.say('parity: Postfix + Dovecot not installed (or not root): mxlab only');
    return undefined;
  }
  const net = process.env.BENCH_REFERENCE_NET ?? REFERENCE_LOOPBACK_NET;
  const stack = await startReferenceStack({ host: `${net}.0.1`, domains: [BENCH_DOMAIN], password: context.target.password });
  await stack.addUsers([RECIPIENT, `${PARITY_LOCAL}@${BENCH_DOMAIN}`]);
  context.say(`parity: Postfix + Dovecot on ${stack.host} (SMTP ${stack.ports.smtp}, IMAP ${stack.ports.imap}, POP3 ${stack.ports.pop3})`);
  return stack;
}

export async function runParity(context: ScenarioContext): Promise<ParityResult> {
  const { target, options } = context;
  const mxlab: Side = { name: 'mxlab', host: target.host, smtpPort: target.ports.betaMx1, imapPort: target.ports.betaImap, pop3Port: target.ports.betaPop3, password: target.password };
  const parityUser = `${PARITY_LOCAL}@${BENCH_DOMAIN}`;
  const maildir = maildirOf(target, PARITY_LOCAL);
  if (!maildir || !target.usersDir) throw new Error('parity needs the no-Docker lab (its Maildirs and user files)');
  await addUsers(target.usersDir, BENCH_DOMAIN, [PARITY_LOCAL], target.password);
  fillMaildir({ maildir, count: options.n, bodyBytes: options.size, to: parityUser, label: 'parity' });

  const stack = await startReference(context);
  try {
    const reference: Side | undefined = stack && { name: 'reference', host: stack.host, smtpPort: stack.ports.smtp, imapPort: stack.ports.imap, pop3Port: stack.ports.pop3, password: stack.password };
    if (stack) {
      const refMaildir = stack.maildir(PARITY_LOCAL, BENCH_DOMAIN);
      fillMaildir({ maildir: refMaildir, count: options.n, bodyBytes: options.size, to: parityUser, label: 'parity' });
      await chownTree(refMaildir);
    }
    const both = async <T>(label: string, measure: (side: Side) => Promise<T>, referenceFirst = false): Promise<{ mxlab: T; reference: T | undefined }> => {
      const run = (side: Side): Promise<T> => {
        context.say(`parity: ${label}: ${side.name}`);
        return measure(side);
      };
      if (referenceFirst && reference) {
        const theirs = await run(reference);
        return { mxlab: await run(mxlab), reference: theirs };
      }
      const mine = await run(mxlab);
      return { mxlab: mine, reference: reference ? await run(reference) : undefined };
    };
    // Short measurements are repeated, alternating sides, and each side's median run kept:
    // other work on the machine moves a single run by a factor of two or more. The side that
    // goes first alternates too: the bench's own client (one Node process for both sides)
    // is still warming up its JIT in the first runs, which favoured whoever went second.
    const median = async <T>(label: string, measure: (side: Side) => Promise<T>, value: (result: T) => number): Promise<{ mxlab: T; reference: T | undefined }> => {
      const runs: Array<{ mxlab: T; reference: T | undefined }> = [];
      for (let round = 1; round <= REPEATS; round += 1) runs.push(await both(`${label} (${round}/${REPEATS})`, measure, round % 2 === 0));
      const middle = (results: T[]): T => [...results].sort((a, b) => value(a) - value(b))[Math.floor(results.length / 2)] as T;
      const theirs = runs.map((run) => run.reference).filter((result): result is T => result !== undefined);
      return { mxlab: middle(runs.map((run) => run.mxlab)), reference: theirs.length > 0 ? middle(theirs) : undefined };
    };
    const greetingCold = await median('greeting, cold', (side) => measureGreeting(side, GREETINGS), (r) => r.after.p50Ms);
    const perConnection = await both('SMTP one message per connection', (side) =>
      measurePerConnection(side, { user: RECIPIENT, from: MX_SENDER, messages: options.n, sessions: options.c, bodyBytes: options.size, stallMs: 30_000 }),
    );
    const greeting = await median('greeting, server in use', (side) => measureGreeting(side, WARM_GREETINGS), (r) => r.after.p50Ms);
    // The first session of new mail marks every message \Seen at QUIT (new/ → cur/ on both
    // sides): shown apart. One session is measured twice: right after it (the MRA's first
    // few thousand RETRs since its start, while V8 is still compiling the RETR path: a
    // function reaches its optimizing tier only after thousands of calls, bench/FINDINGS.md)
    // and, as the greeting is, on a server in use: after the 8-session runs.
    const pop3First = await both('POP3, first session of new mail', (side) => measurePop3User(side, parityUser, 1));
    const pop3OneEarly = await median('POP3, one session, early', (side) => measurePop3User(side, parityUser, 1), (r) => r.messagesPerSecond);
    const pop3Eight = await median(`POP3, ${POP3_SESSIONS} sessions of one user`, (side) => measurePop3User(side, parityUser, POP3_SESSIONS), (r) => r.messagesPerSecond);
    const pop3One = await median('POP3, one session, server in use', (side) => measurePop3User(side, parityUser, 1), (r) => r.messagesPerSecond);
    const fetch = await both(`IMAP FETCH 1:* ENVELOPE, ${FETCH_CLIENTS} clients`, (side) => measureFetchEnvelope(side, parityUser, FETCH_CLIENTS, FETCH_ROUNDS));

    const paired = <T>(pair: { mxlab: T; reference: T | undefined }, value: (result: T) => number, higherIsBetter: boolean): Paired<T> => ({
      ...pair,
      ratio: ratio(value(pair.mxlab), pair.reference && value(pair.reference), higherIsBetter),
    });
    const result = {
      reference: stack ? `Postfix + Dovecot on ${stack.host}` : 'not installed',
      greeting: paired(greeting, (r) => r.after.p50Ms, false),
      greetingCold: paired(greetingCold, (r) => r.after.p50Ms, false),
      smtpPerConnection: paired(perConnection, (r) => r.messagesPerSecond, true),
      pop3FirstSession: paired(pop3First, (r) => r.messagesPerSecond, true),
      pop3OneSessionEarly: paired(pop3OneEarly, (r) => r.messagesPerSecond, true),
      pop3OneSession: paired(pop3One, (r) => r.messagesPerSecond, true),
      pop3EightSessions: paired(pop3Eight, (r) => r.messagesPerSecond, true),
      fetchEnvelope: paired(fetch, (r) => r.latency.p99Ms, false),
    };
    return {
      ...result,
      smtpPerConnectionRatio: result.smtpPerConnection.ratio,
      greetingRatio: result.greeting.ratio,
      greetingColdRatio: result.greetingCold.ratio,
      pop3OneSessionRatio: result.pop3OneSession.ratio,
      pop3OneSessionEarlyRatio: result.pop3OneSessionEarly.ratio,
      pop3EightSessionsRatio: result.pop3EightSessions.ratio,
      fetchEnvelopeP99Ratio: result.fetchEnvelope.ratio,
      smtpPerConnectionMessagesPerSecond: perConnection.mxlab.messagesPerSecond,
      greetingP50Ms: greeting.mxlab.after.p50Ms,
      pop3OneSessionMessagesPerSecond: pop3One.mxlab.messagesPerSecond,
      pop3EightSessionsMessagesPerSecond: pop3Eight.mxlab.messagesPerSecond,
      fetchEnvelopeP99Ms: fetch.mxlab.latency.p99Ms,
    };
  } finally {
    await stack?.stop();
  }
}
