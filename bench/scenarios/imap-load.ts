/**
 * Scenario 3: K concurrent IMAP clients (in worker processes) looping LOGIN, SELECT,
 * FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE), 50 single-message BODY.PEEK[] fetches and
 * LOGOUT for T seconds over an N-message mailbox: commands/s and latency per command.
 */
import { ImapClient } from '../clients/imap.ts';
import { existsCount } from '../clients/imap-wire.ts';
import { addUsers } from '../lib/bench-users.ts';
import { fillMaildir } from '../lib/maildir-gen.ts';
import { perSecond, round, summarize, type LatencySummary } from '../lib/stats.ts';
import { split, startWorkers } from '../lib/workers.ts';
import { IMAP_COMMAND_KINDS, type ImapCommandKind, type ImapJob, type ImapResult } from '../workers/jobs.ts';
import { RECIPIENT } from './smtp-flow.ts';
import { BENCH_DOMAIN, maildirOf, MemoryWatch, type ScenarioContext } from './context.ts';

export const IMAP_USER_LOCAL = 'benchimap';
const BODIES_PER_LOOP = 50;

export interface ImapLoadResult {
  user: string;
  mailboxMessages: number;
  clients: number;
  seconds: number;
  commands: number;
  loops: number;
  commandsPerSecond: number;
  all: LatencySummary;
  byCommand: Record<ImapCommandKind, LatencySummary>;
  bodyMegabytesPerSecond: number;
  peakRssMb: Record<string, number>;
  errors: string[];
}

/** The mailbox to read: a generated bench user in the lab, bob's mailbox in compose. */
async function prepareMailbox(context: ScenarioContext): Promise<string> {
  const { target, options } = context;
  const maildir = maildirOf(target, IMAP_USER_LOCAL);
  if (!maildir || !target.usersDir) {
    context.say(`imap: compose target, reading ${RECIPIENT}'s mailbox as it is (run ingest first to fill it)`);
    return RECIPIENT;
  }
  await addUsers(target.usersDir, BENCH_DOMAIN, [IMAP_USER_LOCAL], target.password);
  const ms = fillMaildir({ maildir, count: options.n, bodyBytes: options.size, to: `${IMAP_USER_LOCAL}@${BENCH_DOMAIN}`, label: 'imap' });
  context.say(`imap: generated ${options.n} messages in ${round(ms, 0)} ms`);
  return `${IMAP_USER_LOCAL}@${BENCH_DOMAIN}`;
}

export async function runImapLoad(context: ScenarioContext): Promise<ImapLoadResult> {
  const { target, options } = context;
  const user = await prepareMailbox(context);
  const warm = await ImapClient.connect({ host: target.host, port: target.ports.betaImap });
  await warm.login(user, target.password);
  const select = await warm.run('SELECT INBOX');
  const mailboxMessages = existsCount(select.untagged) ?? 0;
  await warm.logout();
  context.say(`imap: ${options.k} clients for ${options.t} s over ${mailboxMessages} messages (first SELECT ${round(select.ms, 0)} ms)`);

  const jobs: ImapJob[] = split(options.k, options.procs).map((count) => ({
    host: target.host,
    port: target.ports.betaImap,
    clients: Array.from({ length: count }, () => ({ user, password: target.password })),
    seconds: options.t,
    bodies: BODIES_PER_LOOP,
  }));
  const group = await startWorkers<ImapResult>('imap', jobs);
  const watch = new MemoryWatch(target);
  await watch.start();
  const { startedAt, results: pending } = group.go();
  const results = await pending;
  const peakRssMb = await watch.stop();

  const windowMs = Math.min(options.t * 1000, Math.max(...results.map((r) => r.endedAt)) - startedAt);
  const commands = results.reduce((sum, r) => sum + r.commands, 0);
  const byCommand = Object.fromEntries(
    IMAP_COMMAND_KINDS.map((kind) => [kind, summarize(results.flatMap((r) => r.latenciesMs[kind]))]),
  ) as Record<ImapCommandKind, LatencySummary>;
  return {
    user,
    mailboxMessages,
    clients: options.k,
    seconds: options.t,
    commands,
    loops: results.reduce((sum, r) => sum + r.loops, 0),
    commandsPerSecond: perSecond(commands, windowMs),
    all: summarize(results.flatMap((r) => IMAP_COMMAND_KINDS.flatMap((kind) => r.latenciesMs[kind]))),
    byCommand,
    bodyMegabytesPerSecond: round(results.reduce((sum, r) => sum + r.bodyOctets, 0) / 2 ** 20 / (windowMs / 1000)),
    peakRssMb,
    errors: results.flatMap((r) => r.errors).slice(0, 5),
  };
}
