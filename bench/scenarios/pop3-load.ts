/**
 * Scenario 4: parallel POP3 sessions, one maildrop each (RFC 1939 locks a maildrop per
 * session), each retrieving every message: messages/s over all sessions.
 */
import { addUsers } from '../lib/bench-users.ts';
import { fillMaildir } from '../lib/maildir-gen.ts';
import { perSecond, round } from '../lib/stats.ts';
import { split, startWorkers } from '../lib/workers.ts';
import type { Pop3Job, Pop3Result } from '../workers/jobs.ts';
import { RECIPIENT } from './smtp-flow.ts';
import { BENCH_DOMAIN, maildirOf, MemoryWatch, type ScenarioContext } from './context.ts';

/** RETR commands in flight per session when the server offers PIPELINING. */
const RETR_WINDOW = 16;

export interface Pop3LoadResult {
  sessions: number;
  messages: number;
  megabytes: number;
  elapsedMs: number;
  messagesPerSecond: number;
  pipelined: boolean;
  peakRssMb: Record<string, number>;
}

async function prepareMaildrops(context: ScenarioContext): Promise<string[]> {
  const { target, options } = context;
  if (!target.usersDir || !target.mailRoot) {
    context.say(`pop3: compose target, one session on ${RECIPIENT}'s maildrop as it is`);
    return [RECIPIENT];
  }
  const locals = Array.from({ length: options.p }, (_, i) => `benchpop${i + 1}`);
  await addUsers(target.usersDir, BENCH_DOMAIN, locals, target.password);
  const started = performance.now();
  for (const local of locals) {
    fillMaildir({ maildir: maildirOf(target, local)!, count: options.n, bodyBytes: options.size, to: `${local}@${BENCH_DOMAIN}`, label: local });
  }
  context.say(`pop3: generated ${locals.length} maildrops of ${options.n} messages in ${round(performance.now() - started, 0)} ms`);
  return locals.map((local) => `${local}@${BENCH_DOMAIN}`);
}

export async function runPop3Load(context: ScenarioContext): Promise<Pop3LoadResult> {
  const { target, options } = context;
  const users = await prepareMaildrops(context);
  const shares = split(users.length, options.procs);
  let next = 0;
  const jobs: Pop3Job[] = shares.map((count) => ({
    host: target.host,
    port: target.ports.betaPop3,
    sessions: users.slice(next, (next += count)).map((user) => ({ user, password: target.password })),
    window: RETR_WINDOW,
  }));
  context.say(`pop3: ${users.length} sessions in ${jobs.length} processes`);
  const group = await startWorkers<Pop3Result>('pop3', jobs);
  const watch = new MemoryWatch(target);
  await watch.start();
  const { startedAt, results: pending } = group.go();
  const results = await pending;
  const peakRssMb = await watch.stop();
  const elapsedMs = Math.max(...results.map((r) => r.endedAt)) - startedAt;
  const messages = results.reduce((sum, r) => sum + r.messages, 0);
  return {
    sessions: users.length,
    messages,
    megabytes: round(results.reduce((sum, r) => sum + r.octets, 0) / 2 ** 20),
    elapsedMs: round(elapsedMs),
    messagesPerSecond: perSecond(messages, elapsedMs),
    pipelined: results.every((r) => r.pipelined),
    peakRssMb,
  };
}
