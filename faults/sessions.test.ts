/**
 * Fault suite, many idle sessions (issue 15): 200 SMTP sessions (100 on alpha-mta's
 * submission port, 100 on beta-mx1's MX port, from 20 client addresses so that no address
 * reaches the 50-per-address limit) and 100 IMAP IDLE sessions of bob's INBOX, all held
 * for 60 s while 300 messages flow alice → bob. Every SMTP session still answers its NOOP
 * at the end, every IDLE session is told of every new message, nothing is lost or
 * delivered twice, and each agent's RSS is reported. Own net 127.97.x.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { startLabProcess, type LabProcess } from '../scripts/lab-process.ts';
import { AGENT_ADDRESSES, SERVICE_PORTS, toLoopback } from '../shared/lab.ts';
import { bobImap, report, rssBytes, sendBurst, settle } from './lib.ts';

const NET = '127.97';
const SMTP_SESSIONS_PER_PORT = 100;
const IDLE_SESSIONS = 100;
const HOLD_MS = 60_000;
const WAVES = 6;
const PER_WAVE = 50;
/** Under submission's 10 commands before AUTH for the whole test (EHLO, a NOOP every 30 s, the last NOOP). */
const NOOP_EVERY_MS = 30_000;

/** One SMTP session held open: EHLO, then NOOP now and then; `check()` asks once more. */
class HeldSmtpSession {
  private readonly socket: net.Socket;
  private buffer = '';
  private waiting: ((line: string) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly errors: string[] = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (;;) {
        const end = this.buffer.indexOf('\r\n');
        if (end < 0) break;
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        // Only a last line (code and space) completes a reply.
        if (/^\d{3} /u.test(line)) {
          const resolve = this.waiting;
          this.waiting = undefined;
          resolve?.(line);
        }
      }
    });
    socket.on('error', (error) => this.errors.push(error.message));
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.('closed');
    });
  }

  static async open(host: string, port: number, localAddress: string): Promise<HeldSmtpSession> {
    const socket = net.connect({ host, port, localAddress });
    const session = new HeldSmtpSession(socket);
    const greeting = await session.reply();
    if (!greeting.startsWith('220 ')) throw new Error(`${host}:${port} from ${localAddress}: greeting ${greeting}`);
    const ehlo = await session.command(`EHLO client-${localAddress}.example`);
    if (!ehlo.startsWith('250 ')) throw new Error(`${host}:${port} from ${localAddress}: EHLO ${ehlo}`);
    session.timer = setInterval(() => {
      void session.command('NOOP').then((line) => {
        if (!line.startsWith('250 ')) session.errors.push(`NOOP: ${line}`);
      });
    }, NOOP_EVERY_MS);
    return session;
  }

  private reply(): Promise<string> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  command(line: string): Promise<string> {
    if (this.closed) return Promise.resolve('closed');
    const reply = this.reply();
    this.socket.write(`${line}\r\n`);
    return reply;
  }

  async quit(): Promise<void> {
    clearInterval(this.timer);
    if (!this.closed) await this.command('QUIT');
    this.socket.destroy();
  }
}

/** An IMAP client of bob's INBOX, idling (imapflow IDLEs by itself once a mailbox is open). */
interface IdleWatcher {
  client: ImapFlow;
  startCount: number;
  lastCount: number;
  errors: string[];
}

describe('fault suite: 200 SMTP sessions and 100 IMAP IDLE sessions while mail flows', () => {
  let lab: LabProcess;
  const smtp: HeldSmtpSession[] = [];
  const watchers: IdleWatcher[] = [];

  before(async () => {
    lab = await startLabProcess({ loopbackNet: NET });
  });
  after(async () => {
    await Promise.allSettled(smtp.map((session) => session.quit()));
    await Promise.allSettled(watchers.map((watcher) => watcher.client.logout()));
    await lab?.stop();
  });

  it('holds every session for 60 s with 0 errors, tells every IDLE session of each new message, and loses nothing', async () => {
    const mx1 = toLoopback(AGENT_ADDRESSES['beta-mx1'], lab.env.MXLAB_LOOPBACK_NET);
    // 10 client addresses per port, 10 sessions each: under MAX_CONNECTIONS_PER_IP (50).
    for (const [port, host, third] of [
      [lab.ports.alphaSubmission, '127.0.0.1', 250],
      [SERVICE_PORTS.smtp, mx1, 251],
    ] as const) {
      for (let i = 0; i < SMTP_SESSIONS_PER_PORT; i += 1) {
        const local = `${NET}.${third}.${(i % 10) + 1}`;
        smtp.push(await HeldSmtpSession.open(host, port, local));
      }
    }
    assert.equal(smtp.length, 2 * SMTP_SESSIONS_PER_PORT);

    for (let i = 0; i < IDLE_SESSIONS; i += 1) {
      const client = bobImap(lab);
      const watcher: IdleWatcher = { client, startCount: 0, lastCount: 0, errors: [] };
      client.on('error', (error: Error) => watcher.errors.push(error.message));
      client.on('close', () => watcher.errors.push('connection closed'));
      client.on('exists', (data: { count: number }) => (watcher.lastCount = Math.max(watcher.lastCount, data.count)));
      await client.connect();
      const mailbox = await client.mailboxOpen('INBOX');
      watcher.startCount = mailbox.exists;
      watcher.lastCount = mailbox.exists;
      watchers.push(watcher);
    }

    const started = Date.now();
    const burst = await sendBurst(lab, {
      label: 'sessions',
      count: WAVES * PER_WAVE,
      connections: 4,
      during: async (n) => {
        // A wave every HOLD_MS / WAVES: mail flows for the whole hold.
        if (n % PER_WAVE === 1 && n > 1) await new Promise((resolve) => setTimeout(resolve, HOLD_MS / WAVES));
      },
    });
    const left = HOLD_MS - (Date.now() - started);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    const counts = await settle(lab, burst, 'sessions');

    // Every IDLE session hears of the last deliveries within a few seconds.
    const deadline = Date.now() + 30_000;
    while (watchers.some((watcher) => watcher.lastCount < watcher.startCount + counts.delivered) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const finalNoops = await Promise.all(smtp.map((session) => session.command('NOOP')));

    const rss: Record<string, number> = {};
    for (const [agent, pid] of Object.entries(await lab.pids())) rss[agent] = await rssBytes(pid);
    report('200 SMTP + 100 IDLE sessions for 60 s', counts, {
      'RSS MiB': Object.entries(rss)
        .map(([agent, bytes]) => `${agent} ${(bytes / 1048576).toFixed(0)}`)
        .join(' '),
    });

    assert.equal(counts.accepted, WAVES * PER_WAVE, burst.errors.join(' | '));
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
    const smtpErrors = smtp.flatMap((session, i) => session.errors.map((error) => `smtp ${i}: ${error}`));
    assert.deepEqual(smtpErrors, [], 'no SMTP session saw an error');
    assert.deepEqual(
      finalNoops.filter((line) => !line.startsWith('250 ')),
      [],
      'every held SMTP session still answers',
    );
    const idleErrors = watchers.flatMap((watcher, i) => watcher.errors.map((error) => `idle ${i}: ${error}`));
    assert.deepEqual(idleErrors, [], 'no IDLE session saw an error');
    const unaware = watchers.filter((watcher) => watcher.lastCount < watcher.startCount + counts.delivered);
    assert.equal(unaware.length, 0, `IDLE sessions not told of every message: ${unaware.length}, e.g. ${JSON.stringify(unaware[0] && { start: unaware[0].startCount, last: unaware[0].lastCount })}`);
  });
});
