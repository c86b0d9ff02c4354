/**
 * Scenario 5: a big mailbox generated straight into a bench user's Maildir; the time
 * for the first SELECT (no index yet), a second SELECT (new session, index built),
 * `FETCH 1:* (UID FLAGS)`, the MRA's memory after, and POP3 login+STAT and UIDL.
 * Single commands timed from this process; the lab runs in its own processes.
 */
import { ImapClient } from '../clients/imap.ts';
import { existsCount } from '../clients/imap-wire.ts';
import { Pop3Client } from '../clients/pop3.ts';
import { uidlLines } from '../clients/pop3-wire.ts';
import { addUsers } from '../lib/bench-users.ts';
import { fillMaildir } from '../lib/maildir-gen.ts';
import { round } from '../lib/stats.ts';
import { BENCH_DOMAIN, maildirOf, type ScenarioContext } from './context.ts';

export const SCALE_USER_LOCAL = 'benchscale';
/** Small bodies: SELECT and UIDL never read them, and 100k files stay quick to write. */
const SCALE_BODY_BYTES = 1024;
const MRA_AGENT = 'beta-mra';

export interface ScaleResult {
  messages: number;
  generateMs: number;
  selectColdMs: number;
  selectWarmMs: number;
  exists: number;
  fetchUidFlagsMs: number;
  fetchedLines: number;
  mraRssMb: number | undefined;
  mraPeakMb: number | undefined;
  /** After POP3 too: the maildrop's own list of the 100k messages, held while its session lasts. */
  mraRssAfterPop3Mb: number | undefined;
  mraPeakAfterPop3Mb: number | undefined;
  pop3LoginStatMs: number;
  pop3StatCount: number;
  pop3UidlMs: number;
  pop3UidlLines: number;
}

async function select(context: ScenarioContext, user: string): Promise<{ ms: number; exists: number; client: ImapClient }> {
  const { target } = context;
  const client = await ImapClient.connect({ host: target.host, port: target.ports.betaImap });
  await client.login(user, target.password);
  const completion = await client.run('SELECT INBOX');
  return { ms: completion.ms, exists: existsCount(completion.untagged) ?? 0, client };
}

export async function runScale(context: ScenarioContext): Promise<ScaleResult> {
  const { target, options } = context;
  const maildir = maildirOf(target, SCALE_USER_LOCAL);
  if (!maildir || !target.usersDir) throw new Error('scale: not supported with --target compose (it writes the Maildir directly; run it against the no-Docker lab)');
  await addUsers(target.usersDir, BENCH_DOMAIN, [SCALE_USER_LOCAL], target.password);
  const user = `${SCALE_USER_LOCAL}@${BENCH_DOMAIN}`;
  const generateMs = fillMaildir({ maildir, count: options.scale, bodyBytes: SCALE_BODY_BYTES, to: user, label: 'scale' });
  context.say(`scale: generated ${options.scale} messages in ${round(generateMs, 0)} ms`);
  const mraPid = await target.pid(MRA_AGENT);
  await target.resetPeaks();

  const cold = await select(context, user);
  const fetch = await cold.client.run('FETCH 1:* (UID FLAGS)');
  await cold.client.logout();
  const warm = await select(context, user);
  await warm.client.logout();
  const memory = (await target.memory())[MRA_AGENT];
  context.say(`scale: SELECT ${round(cold.ms, 0)} ms cold, ${round(warm.ms, 0)} ms warm; FETCH 1:* ${round(fetch.ms, 0)} ms; MRA pid ${mraPid ?? '?'}`);

  const pop3 = await Pop3Client.connect({ host: target.host, port: target.ports.betaPop3 });
  const loginStarted = performance.now();
  await pop3.login(user, target.password);
  const stat = await pop3.stat();
  const pop3LoginStatMs = performance.now() - loginStarted;
  const uidlStarted = performance.now();
  const uidl = await pop3.uidl();
  const pop3UidlMs = performance.now() - uidlStarted;
  const afterPop3 = (await target.memory())[MRA_AGENT];
  await pop3.quit();

  return {
    messages: options.scale,
    generateMs: round(generateMs, 0),
    selectColdMs: round(cold.ms),
    selectWarmMs: round(warm.ms),
    exists: cold.exists,
    fetchUidFlagsMs: round(fetch.ms),
    fetchedLines: fetch.untagged.length,
    mraRssMb: memory?.rssMb,
    mraPeakMb: memory?.peakMb,
    mraRssAfterPop3Mb: afterPop3?.rssMb,
    mraPeakAfterPop3Mb: afterPop3?.peakMb,
    pop3LoginStatMs: round(pop3LoginStatMs),
    pop3StatCount: stat.count,
    pop3UidlMs: round(pop3UidlMs),
    pop3UidlLines: uidlLines(uidl).length,
  };
}
