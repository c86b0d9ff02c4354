/**
 * The no-Docker lab survives the death of any agent (issue 15, item 2): `kill -9` of an
 * agent's process, or `npm run lab -- kill`, is answered by a restart with backoff, as
 * compose's `restart: unless-stopped`; `npm run lab -- stop` stays a deliberate stop.
 * The lab runs on its own loopback network (127.93.x) and free host ports.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { runProcess } from '../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from './lab-process.ts';

interface Status { name: string; state: string; pid?: number; restarts: number; lastExit?: { signal: string | null; code: number | null } }

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the supervised no-Docker lab', () => {
  let lab: LabProcess;
  const labctl = async (...args: string[]) => {
    const result = await runProcess(process.execPath, [join(import.meta.dirname, 'labctl.ts'), ...args], { timeoutMs: 60_000, env: lab.env });
    return { ...result, stdout: result.stdout.toString() };
  };
  const status = async (name: string): Promise<Status> => {
    const text = (await labctl('status')).stdout;
    const line = text.split('\n').find((item) => item.startsWith(`${name} `));
    assert.ok(line, `status lists ${name}:\n${text}`);
    const match = /^(\S+)\s+\S+\s+((?:running|starting) \(pid (\d+)\)|stopped|restarting)\s+restarts (\d+)(?:, last exit (\S+))?/u.exec(line);
    assert.ok(match, `status line of ${name}: ${line}`);
    return { name, state: match[2]!.split(' ')[0]!, ...(match[3] ? { pid: Number(match[3]) } : {}), restarts: Number(match[4]), ...(match[5] ? { lastExit: { signal: match[5].startsWith('SIG') ? match[5] : null, code: null } } : {}) };
  };

  before(async () => {
    lab = await startLabProcess({ loopbackNet: '127.93' });
  });
  after(async () => {
    await lab?.stop();
  });

  it('restarts an agent killed with kill -9, and mail flows through it again', async () => {
    const pids = await lab.pids();
    const old = pids['beta-mx1'];
    assert.ok(old, 'beta-mx1 has a pid');
    process.kill(old, 'SIGKILL');
    const back = await until('beta-mx1 restarted', async () => {
      const item = await status('beta-mx1');
      return item.state === 'running' && item.pid !== old ? item : undefined;
    });
    assert.equal(back.restarts, 1);
    assert.equal(back.lastExit?.signal, 'SIGKILL');
    assert.match(lab.output(), /beta-mx1 died \(SIGKILL\); restarting in \d+ ms/u);
    await until('pids.json to name the new process', async () => ((await lab.pids())['beta-mx1'] === back.pid ? true : undefined), 10_000);

    const subject = `after restart ${Date.now()}`;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: lab.ports.alphaSubmission, requireTLS: true,
      tls: { ca: lab.ca, servername: 'smtp.alpha.test' }, auth: { user: 'alice@alpha.test', pass: 'secret' },
    });
    await transport.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'beta-mx1 came back' });
    await until('the message in bob\'s INBOX', async () => {
      const imap = new ImapFlow({ host: '127.0.0.1', port: lab.ports.betaImap, secure: false, auth: { user: 'bob@beta.test', pass: 'secret' }, tls: { ca: lab.ca, servername: 'imap.beta.test' }, logger: false });
      await imap.connect();
      try {
        await imap.mailboxOpen('INBOX', { readOnly: true });
        const found = await imap.search({ subject }, { uid: true });
        return found && found.length === 1 ? true : undefined;
      } finally {
        await imap.logout();
      }
    }, 60_000);
  });

  it('`lab kill` is a crash (restarted); `lab stop` is deliberate (not restarted)', async () => {
    const killed = await labctl('kill', 'beta-mda');
    assert.equal(killed.code, 0, killed.stderr);
    const back = await until('beta-mda restarted', async () => {
      const item = await status('beta-mda');
      return item.state === 'running' ? item : undefined;
    });
    assert.equal(back.restarts, 1);

    const stopped = await labctl('stop', 'caller');
    assert.equal(stopped.code, 0, stopped.stderr);
    // Longer than the first restart delays: a supervisor that restarted it would have by now.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const item = await status('caller');
    assert.equal(item.state, 'stopped');
    assert.equal(item.restarts, 0);
    const started = await labctl('start', 'caller');
    assert.equal(started.code, 0, started.stderr);
    assert.equal((await status('caller')).state, 'running');
    assert.doesNotMatch(lab.output(), /mxlab stopped/u, 'the lab itself kept running');
  });

  it('refuses to kill an agent that is not running', async () => {
    await labctl('stop', 'beta-mx2');
    const result = await labctl('kill', 'beta-mx2');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /not running/u);
    await labctl('start', 'beta-mx2');
  });
});
