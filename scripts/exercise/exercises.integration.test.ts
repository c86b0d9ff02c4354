/**
 * Every exercise of docs/lab/ as a trainee does it, against one no-Docker lab of its own
 * (127.45.x, free host ports, profile cluster for exercises 7, 8 and 10): first `check` fails for every exercise on the fresh lab,
 * then, in order, each exercise's steps with real clients (swaks, dig, curl, python3,
 * imapflow) and its `check` (the real CLI, a child process) passes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { runProcess, runPython } from '../../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from '../lab-process.ts';
import { listExercises } from './registry.ts';

const root = join(import.meta.dirname, '..', '..');
/** This file's own loopback network (the guide's range is 127.45-127.59). */
const NET = '127.45';
let lab: LabProcess;
let zonesDir = '';

async function run(command: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runProcess(command, args, { timeoutMs, env: lab.env });
  return { code: result.code, stdout: result.stdout.toString(), stderr: result.stderr };
}

/** `npm run exercise -- …`, as the trainee runs it, against the test's lab. */
function exercise(...args: string[]) {
  return run(process.execPath, [join(root, 'scripts', 'exercise', 'cli.ts'), ...args], 60_000);
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Waits until `check n` passes (mail takes a moment to arrive), then returns its output. */
async function eventuallyPasses(n: number, answer?: () => Promise<string | undefined> | string | undefined, timeoutMs = 90_000): Promise<string> {
  let last = '';
  try {
    return await until(`check ${n} to pass`, async () => {
      const given = await answer?.();
      const result = await exercise('check', String(n), ...(given === undefined ? [] : ['--answer', given]));
      last = result.stdout + result.stderr;
      return result.code === 0 ? result.stdout : undefined;
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; its last output:\n${last}`, { cause: error });
  }
}

/** `npm run <script> -- …` of the repository (lab, queue), against the test's lab. */
function npmRun(script: 'lab' | 'queue' | 'chaos', ...args: string[]) {
  const entries = { lab: ['scripts', 'labctl.ts'], queue: ['services', 'mta', 'cli.ts'], chaos: ['services', 'mta', 'chaos-cli.ts'] };
  const entry = join(root, ...entries[script]);
  return run(process.execPath, [entry, ...args]);
}

async function dig(...args: string[]): Promise<string[]> {
  const result = await run('dig', ['@127.0.0.1', '-p', String(lab.env.MXLAB_DNS_PORT), '+short', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split('\n').filter((line) => line !== '');
}

function swaks(server: 'betaMx1' | 'betaMx2', to: string, subject: string) {
  const port = String(server === 'betaMx1' ? lab.env.MXLAB_BETA_MX1_PORT : lab.env.MXLAB_BETA_MX2_PORT);
  return run('swaks', ['--server', `127.0.0.1:${port}`, '--from', 'you@example.org', '--to', to, '--header', `Subject: ${subject}`]);
}

/** The guide's loop: `count` messages from alice, subjects `<subject> #1..count`, swaks printing errors only. */
function swaksLoopAsAlice(to: string, subject: string, count: number) {
  const port = String(lab.env.MXLAB_ALPHA_SUBMISSION_PORT);
  const loop = `for i in $(seq 1 ${count}); do swaks --server 127.0.0.1:${port} --tls --auth-user alice@alpha.test --auth-password secret `
    + `--from alice@alpha.test --to ${to} --header "Subject: ${subject} #$i" --silent 2 || exit 1; done`;
  return run('bash', ['-c', loop], 300_000);
}

/** `curl imap://…` on gamma-mra (the cluster profile's mailboxes). */
function curlGamma(path: string, user: string, ...args: string[]) {
  return run('curl', ['-s', `imap://127.0.0.1:${lab.env.MXLAB_GAMMA_IMAP_PORT}/${path}`, '--user', `${user}:secret`, ...args]);
}

function swaksAsAlice(to: string, subject: string, extra: string[] = []) {
  const port = String(lab.env.MXLAB_ALPHA_SUBMISSION_PORT);
  return run('swaks', ['--server', `127.0.0.1:${port}`, '--tls', '--auth-user', 'alice@alpha.test', '--auth-password', 'secret',
    '--from', 'alice@alpha.test', '--to', to, '--header', `Subject: ${subject}`, ...extra]);
}

describe('the lab guide\'s exercises', () => {
  before(async () => {
    // At info level, as `npm start` runs: some checks read the agents' logs.
    // A copy of the zones, which exercise 19 edits as the trainee edits the repository's.
    zonesDir = await mkdtemp(join(tmpdir(), 'mxlab-exercise-zones-'));
    await cp(join(root, 'services', 'dns', 'zones'), zonesDir, { recursive: true });
    lab = await startLabProcess({ loopbackNet: NET, env: { LOG_LEVEL: 'info', MXLAB_PROFILES: 'cluster', MXLAB_ZONES_DIR: zonesDir } });
  });
  after(async () => {
    await lab?.stop();
    if (zonesDir) await rm(zonesDir, { recursive: true, force: true });
  });

  it('fails every check on a fresh lab, saying what is missing', async () => {
    for (const entry of listExercises()) {
      const result = await exercise('check', String(entry.number), '--answer', '42');
      assert.equal(result.code, 1, `check ${entry.number} passed on a fresh lab:\n${result.stdout}`);
      assert.match(result.stdout, /✘ /u, entry.name);
      assert.match(result.stdout, /Not done yet/u, entry.name);
    }
  });

  it('1: the two halves of an address', async () => {
    for (const to of ['carol@beta.test', 'postmaster@beta.test']) {
      const sent = await swaksAsAlice(to, 'exercise 1');
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    }
    const out = await eventuallyPasses(1);
    assert.match(out, /✔ .*mx1\.beta\.test/u);
  });

  it('2: asking DNS for MX, A, SRV and SPF', async () => {
    const mx = (await dig('beta.test', 'MX')).map((line) => line.split(' '));
    const backup = mx.sort((a, b) => Number(b[0]) - Number(a[0]))[0]?.[1] ?? '';
    const [address] = await dig(backup, 'A');
    const srv = await dig('_imaps._tcp.alpha.test', 'SRV');
    const host = srv[0]?.split(' ')[3] ?? '';
    assert.match((await dig('beta.test', 'TXT'))[0] ?? '', /v=spf1/u);
    const wrong = await exercise('check', '2', '--answer', `${host}`);
    assert.equal(wrong.code, 1, wrong.stdout);
    assert.match(wrong.stdout, /✔ .*IMAP over TLS/u);
    assert.match(wrong.stdout, /✘ .*first-choice exchange/u);
    await eventuallyPasses(2, () => `${address} ${host}`);
  });

  it('3: the SMTP conversation, by hand', async () => {
    const sent = await swaks('betaMx1', 'carol@beta.test', 'exercise 3');
    assert.equal(sent.code, 0, sent.stdout);
    const queueId = /<-\s+250 2\.0\.0 Ok: queued as (\S+)/u.exec(sent.stdout)?.[1];
    assert.ok(queueId, sent.stdout);
    await eventuallyPasses(3, () => queueId);
  });

  it('4: a message\'s journey in the web mail', { timeout: 180_000 }, async () => {
    const browser: Browser = await chromium.launch({ executablePath: process.env.MXLAB_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const mua = `http://127.0.0.1:${lab.env.MXLAB_MUA_PORT}`;
      const logIn = async (address: string) => {
        const page = await (await browser.newContext()).newPage();
        await page.goto(mua);
        await page.fill('#login-address', address);
        await page.fill('#login-password', 'secret');
        await page.press('#login-password', 'Enter');
        await page.waitForSelector('#app-view:not([hidden])');
        return page;
      };
      const alice = await logIn('alice@alpha.test');
      await alice.click('#compose-button');
      await alice.fill('#compose-to', 'bob@beta.test');
      await alice.fill('#compose-subject', 'exercise 4');
      await alice.fill('#compose-text', 'Hello bob, where did this go?');
      await alice.click('#compose-send');
      await alice.waitForSelector('#compose', { state: 'hidden' });
      const bob = await logIn('bob@beta.test');
      const row = bob.locator('#messages a.row', { hasText: 'exercise 4' });
      await row.waitFor({ timeout: 60_000 });
      await row.click();
      await bob.click('#tab-journey');
      const submission = bob.locator('.hop-submission');
      await submission.waitFor();
      assert.match((await submission.locator('.hop-agent').textContent()) ?? '', /alpha-mta/u);
      const id = /id (\S+)/u.exec((await submission.locator('.badge-id').textContent()) ?? '')?.[1];
      assert.ok(id, 'the journey shows alpha-mta\'s queue id');
      await eventuallyPasses(4, () => id);
    } finally {
      await browser.close();
    }
  });

  it('5: the backup MX keeps the mail while the primary is down', async () => {
    assert.equal((await npmRun('lab', 'stop', 'beta-mx1')).code, 0);
    try {
      const sent = await swaksAsAlice('bob@beta.test', 'exercise 5');
      assert.equal(sent.code, 0, sent.stdout);
      const queued = await until('the message on beta-mx2', async () => {
        const list = await npmRun('queue', '--mta', 'beta-mx2', 'list');
        return /^([^\s*]+)\*?\s.*\n\s+bob@beta\.test\s+deferred/mu.exec(list.stdout)?.[1];
      });
      const early = await exercise('check', '5', '--answer', queued);
      assert.equal(early.code, 1, 'not done while the message still waits');
      assert.match(early.stdout, /✘ bob@beta\.test has no "exercise 5"/u);
      assert.equal((await npmRun('lab', 'start', 'beta-mx1')).code, 0);
      assert.equal((await npmRun('queue', '--mta', 'beta-mx2', 'flush')).code, 0);
      const out = await eventuallyPasses(5, () => queued);
      assert.match(out, /✔ exactly one copy arrived/u);
      const copied = await exercise('check', '5', '--answer', `${queued}*`);
      assert.equal(copied.code, 0, `the id copied with the listing's "being delivered" mark counts too\n${copied.stdout}`);
    } finally {
      await npmRun('lab', 'start', 'beta-mx1');
    }
  });

  it('6: the own-name rule: the backup sends only downhill', async () => {
    assert.equal((await npmRun('lab', 'stop', 'beta-mx1')).code, 0);
    try {
      const sent = await swaks('betaMx2', 'bob@beta.test', 'exercise 6');
      assert.equal(sent.code, 0, sent.stdout);
      await until('a deferred attempt on beta-mx2', async () => {
        const list = await npmRun('queue', '--mta', 'beta-mx2', 'list');
        return /deferred\s+attempts [1-9]/u.test(list.stdout) ? true : undefined;
      });
      const ownPreference = Number((await dig('beta.test', 'MX')).find((line) => line.endsWith('mx2.beta.test.'))?.split(' ')[0]);
      const below = (await dig('beta.test', 'MX')).filter((line) => Number(line.split(' ')[0]) < ownPreference).map((line) => line.split(' ')[1] ?? '');
      assert.equal((await npmRun('lab', 'start', 'beta-mx1')).code, 0);
      assert.equal((await npmRun('queue', '--mta', 'beta-mx2', 'flush')).code, 0);
      const out = await eventuallyPasses(6, () => below.join(' '));
      assert.match(out, /✔ beta-mx2 tried only mx1\.beta\.test, never itself/u);
    } finally {
      await npmRun('lab', 'start', 'beta-mx1');
    }
  });

  it('7: equal preferences share the load: 100 messages, two backups', { timeout: 420_000 }, async () => {
    assert.deepEqual((await dig('gamma.test', 'MX')).sort(), ['10 mx1.gamma.test.', '20 mx2.gamma.test.', '20 mx3.gamma.test.']);
    for (const instance of ['gamma-mx1a', 'gamma-mx1b']) assert.equal((await npmRun('lab', 'stop', instance)).code, 0);
    const held: Record<string, number> = {};
    try {
      const sent = await swaksLoopAsAlice('dave@gamma.test', 'exercise 7', 100);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      await until('the 100 messages on the backups', async () => {
        for (const backup of ['gamma-mx2', 'gamma-mx3']) {
          const list = await npmRun('queue', '--mta', backup, 'list');
          held[backup] = Number(/^-- (\d+) messages? in queue/mu.exec(list.stdout)?.[1] ?? 0);
        }
        return (held['gamma-mx2'] ?? 0) + (held['gamma-mx3'] ?? 0) === 100 ? true : undefined;
      }, 180_000);
      const early = await exercise('check', '7', '--answer', `${held['gamma-mx2']} ${held['gamma-mx3']}`);
      assert.equal(early.code, 1, 'not done while the messages wait on the backups');
    } finally {
      for (const instance of ['gamma-mx1a', 'gamma-mx1b']) await npmRun('lab', 'start', instance);
    }
    for (const backup of ['gamma-mx2', 'gamma-mx3']) assert.equal((await npmRun('queue', '--mta', backup, 'flush')).code, 0);
    const count = async (backup: string) => {
      const found = await curlGamma('INBOX', 'dave@gamma.test', '-X', `SEARCH SUBJECT "exercise 7" HEADER Received "by ${backup}"`);
      return (/^\* SEARCH(.*)$/mu.exec(found.stdout)?.[1] ?? '').trim().split(' ').filter((n) => n !== '').length;
    };
    const counts = await until('all 100 in dave\'s INBOX', async () => {
      const both = [await count('mx2.gamma.test'), await count('mx3.gamma.test')];
      return (both[0] ?? 0) + (both[1] ?? 0) === 100 ? both : undefined;
    }, 180_000);
    assert.deepEqual(counts, [held['gamma-mx2'], held['gamma-mx3']], 'dave\'s trails name the backups that held them');
    const out = await eventuallyPasses(7, () => counts.join(' '));
    assert.match(out, /✔ both backups took a share/u);
  });

  it('8: several A records: one of mx1.gamma.test\'s two servers down', { timeout: 240_000 }, async () => {
    assert.deepEqual((await dig('mx1.gamma.test', 'A')).sort(), [`${NET}.0.30`, `${NET}.0.31`]);
    // Only what alpha-mta logs from here on: exercise 7 had both of mx1's servers down, so its
    // earlier lines name a refusal at either address (tried in random order).
    const logStart = (await readFile(join(lab.stateDir, 'logs', 'alpha-mta.log'))).length;
    assert.equal((await npmRun('lab', 'stop', 'gamma-mx1a')).code, 0);
    try {
      const sent = await swaksLoopAsAlice('erin@gamma.test', 'exercise 8', 10);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      await until('ten messages for erin', async () => {
        const found = await curlGamma('INBOX', 'erin@gamma.test', '-X', 'SEARCH SUBJECT "exercise 8"');
        return (/^\* SEARCH(.*)$/mu.exec(found.stdout)?.[1] ?? '').trim().split(' ').filter((n) => n !== '').length >= 10 ? true : undefined;
      });
    } finally {
      await npmRun('lab', 'start', 'gamma-mx1a');
    }
    // Step 4: the address alpha-mta could not reach, read from its log.
    const log = (await readFile(join(lab.stateDir, 'logs', 'alpha-mta.log'))).subarray(logStart).toString('utf8');
    const refused = log.split('\n').find((line) => line.includes('mx1.gamma.test [') && line.includes('ECONNREFUSED'));
    const address = /mx1\.gamma\.test \[([\d.]+)\]/u.exec(refused ?? '')?.[1];
    assert.ok(address, 'alpha-mta logged a refused attempt at one of mx1.gamma.test\'s addresses');
    const wrong = await exercise('check', '8', '--answer', `${NET}.0.31`);
    assert.equal(wrong.code, 1, 'the address of the server that took the mail is not the answer');
    const out = await eventuallyPasses(8, () => address);
    assert.match(out, /✔ all of them were taken by gamma-mx1b/u);
    assert.match(out, /✔ alpha-mta's log: refused at /u);
  });

  it('9: an MTA keeps DNS answers for their TTL', async () => {
    assert.equal((await swaksAsAlice('bob@beta.test', 'exercise 9')).code, 0);
    const admin = `http://${NET}.0.10:8026/dns`;
    const ttl = await until('beta.test MX in alpha-mta\'s cache', async () => {
      const cache = await run('curl', ['-s', admin]);
      const entries = (JSON.parse(cache.stdout) as { entries: { name: string; type: string; ttl: number }[] }).entries;
      return entries.find((entry) => entry.name === 'beta.test' && entry.type === 'MX')?.ttl;
    });
    const out = await eventuallyPasses(9, () => String(ttl));
    assert.match(out, /✔ bob has alice's "exercise 9"/u);
  });

  it('10: the implicit MX and the null MX', async () => {
    assert.deepEqual(await dig('direct.gamma.test', 'MX'), []);
    const [address] = await dig('direct.gamma.test', 'A');
    assert.ok(address);
    assert.equal((await swaksAsAlice('frank@direct.gamma.test', 'exercise 10')).code, 0);
    assert.deepEqual(await dig('null.test', 'MX'), ['0 .']);
    const refused = await swaksAsAlice('anyone@null.test', 'exercise 10');
    assert.notEqual(refused.code, 0);
    const enhanced = /<~?\*+\s+\d{3} (\d\.\d{1,3}\.\d{1,3}) /u.exec(refused.stdout)?.[1];
    assert.ok(enhanced, refused.stdout);
    const out = await eventuallyPasses(10, () => `${address} ${enhanced}`);
    assert.match(out, /✔ alpha-mta holds nothing for null\.test/u);
    assert.match(out, /✔ alpha-mta refused a null\.test recipient at RCPT/u);
  });

  it('11: an MX is no open relay; SASL is the way in', async () => {
    const probe = await swaks('betaMx1', 'alice@alpha.test', 'exercise 11 probe');
    assert.notEqual(probe.code, 0);
    const refusal = /<\*\*\s+(\d{3}) (\d\.\d\.\d) /u.exec(probe.stdout);
    assert.ok(refusal, probe.stdout);
    const port = String(lab.env.MXLAB_BETA_SUBMISSION_PORT);
    const noAuth = await run('swaks', ['--server', `127.0.0.1:${port}`, '--tls', '--from', 'bob@beta.test', '--to', 'alice@alpha.test']);
    assert.match(noAuth.stdout, /<~\*\s+530 5\.7\.0/u);
    const sent = await run('swaks', ['--server', `127.0.0.1:${port}`, '--tls', '--auth-user', 'bob@beta.test', '--auth-password', 'secret',
      '--from', 'bob@beta.test', '--to', 'alice@alpha.test', '--header', 'Subject: exercise 11']);
    assert.equal(sent.code, 0, sent.stdout);
    await eventuallyPasses(11, () => `${refusal[1]} ${refusal[2]}`);
  });

  it('12: a plain-text IMAP login, read from a capture', async () => {
    const port = String(lab.env.MXLAB_BETA_IMAP_PORT);
    const capture = spawn('tcpdump', ['-i', 'lo', '-nn', '-A', '-s0', '-l', `tcp port ${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let captured = '';
    capture.stdout.on('data', (chunk: Buffer) => (captured += chunk.toString('latin1')));
    const listening = new Promise<void>((resolve) => capture.stderr.on('data', (chunk: Buffer) => { if (/listening on/u.test(chunk.toString())) resolve(); }));
    try {
      await listening;
      const login = await run('curl', ['-s', `imap://127.0.0.1:${port}/`, '--user', 'carol@beta.test:secret']);
      assert.equal(login.code, 0, login.stderr);
      const base64 = await until('the AUTHENTICATE line in the capture', async () => /AUTHENTICATE PLAIN ([A-Za-z0-9+/=]+)/u.exec(captured)?.[1]);
      await eventuallyPasses(12, () => base64);
    } finally {
      capture.kill('SIGINT');
    }
  });

  it('13: the caller refuses EICAR and files GTUBE into Junk', async () => {
    const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
    const gtube = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
    assert.equal((await swaksAsAlice('bob@beta.test', 'exercise 13 virus', ['--body', eicar])).code, 0);
    assert.equal((await swaksAsAlice('bob@beta.test', 'exercise 13 spam', ['--body', gtube])).code, 0);
    const port = String(lab.env.MXLAB_BETA_IMAP_PORT);
    const score = await until('the spam in bob\'s Junk', async () => {
      const fetched = await run('curl', ['-s', `imap://127.0.0.1:${port}/Junk;UID=1`, '--user', 'bob@beta.test:secret']);
      return /^X-Spam-Score: (\S+)/mu.exec(fetched.stdout)?.[1];
    });
    await eventuallyPasses(13, () => score);
  });

  it('14: POP3 downloads and deletes, IMAP keeps folders', async () => {
    for (const what of ['keep', 'pop']) assert.equal((await swaksAsAlice('carol@beta.test', `exercise 14 ${what}`)).code, 0);
    const imap = `imap://127.0.0.1:${lab.env.MXLAB_BETA_IMAP_PORT}`;
    const carol = ['--user', 'carol@beta.test:secret'];
    const uid = await until('both messages in carol\'s INBOX', async () => {
      const pop = await run('curl', ['-s', `${imap}/INBOX`, ...carol, '-X', 'UID SEARCH SUBJECT "exercise 14 pop"']);
      const keep = await run('curl', ['-s', `${imap}/INBOX`, ...carol, '-X', 'UID SEARCH SUBJECT "exercise 14 keep"']);
      const found = /^\* SEARCH (\d+)/mu.exec(keep.stdout)?.[1];
      return /^\* SEARCH \d+/mu.test(pop.stdout) ? found : undefined;
    });
    const popped = await runPython(`
import poplib, sys
pop = poplib.POP3('127.0.0.1', int(sys.argv[1]))
pop.user('carol@beta.test'); pop.pass_('secret')
for n in range(1, pop.stat()[0] + 1):
    if b'Subject: exercise 14 pop' in b'\\n'.join(pop.top(n, 0)[1]):
        pop.retr(n); pop.dele(n); print('deleted', n)
pop.quit()
`, [String(lab.env.MXLAB_BETA_POP3_PORT)]);
    assert.match(popped.stdout.toString(), /deleted \d+/u, popped.stderr);
    assert.equal((await run('curl', ['-s', `${imap}/`, ...carol, '-X', 'CREATE Kept'])).code, 0);
    assert.equal((await run('curl', ['-s', `${imap}/INBOX`, ...carol, '-X', `UID MOVE ${uid} Kept`])).code, 0);
    const list = await run('curl', ['-s', `pop3://127.0.0.1:${lab.env.MXLAB_BETA_POP3_PORT}/`, ...carol]);
    const count = list.stdout.trim().split('\n').filter((line) => line.trim() !== '').length;
    await eventuallyPasses(14, () => String(count));
  });

  it('15: the queue, a retry, and a bounce', async () => {
    for (const mx of ['beta-mx1', 'beta-mx2']) assert.equal((await npmRun('lab', 'stop', mx)).code, 0);
    try {
      assert.equal((await swaksAsAlice('bob@beta.test', 'exercise 15')).code, 0);
      await until('a deferred attempt on alpha-mta', async () => {
        const list = await npmRun('queue', '--mta', 'alpha-mta', 'list');
        return /bob@beta\.test\s+deferred\s+attempts [1-9]/u.test(list.stdout) ? true : undefined;
      });
    } finally {
      for (const mx of ['beta-mx1', 'beta-mx2']) await npmRun('lab', 'start', mx);
    }
    assert.equal((await npmRun('queue', '--mta', 'alpha-mta', 'flush')).code, 0);
    assert.equal((await swaksAsAlice('nobody@beta.test', 'exercise 15 bounce')).code, 0);
    const pop = `pop3://127.0.0.1:${lab.env.MXLAB_ALPHA_POP3_PORT}`;
    const status = await until('the bounce in alice\'s INBOX', async () => {
      const list = await run('curl', ['-s', `${pop}/`, '--user', 'alice@alpha.test:secret']);
      for (const line of list.stdout.trim().split('\n').reverse()) {
        const message = await run('curl', ['-s', `${pop}/${line.split(' ')[0]}`, '--user', 'alice@alpha.test:secret']);
        if (/exercise 15 bounce/u.test(message.stdout)) return /^Status: (\S+)/mu.exec(message.stdout)?.[1];
      }
      return undefined;
    });
    await eventuallyPasses(15, () => status);
  });
  it('16: both MXes say "not now": the queue, a delay warning on the queue clock, then delivery', { timeout: 180_000 }, async () => {
    const rule = JSON.stringify({ id: 'exercise-16', stage: 'rcpt', match: { rcpt: 'carol@beta.test' },
      reply: { code: 451, enhanced: '4.3.0', text: 'exercise 16: not now, come back later' } });
    for (const mx of ['beta-mx1', 'beta-mx2']) assert.equal((await npmRun('chaos', '--mta', mx, 'set', rule)).code, 0);
    assert.equal((await swaksAsAlice('carol@beta.test', 'exercise 16')).code, 0);
    const queueId = await until('carol deferred in alpha-mta\'s queue', async () => {
      const list = await npmRun('queue', '--mta', 'alpha-mta', 'list');
      const found = /^(\S+?)\*?\s.*\n\s+carol@beta\.test\s+deferred\s+attempts [1-9].*\n\s+\((451 4\.3\.0 exercise 16: not now[^)]*)\)/mu.exec(list.stdout);
      return found?.[1];
    });
    const early = await exercise('check', '16');
    assert.equal(early.code, 1, 'not done while the message only waits');
    assert.equal((await npmRun('queue', '--mta', 'alpha-mta', 'advance', '600')).code, 0);
    const pop = `pop3://127.0.0.1:${lab.env.MXLAB_ALPHA_POP3_PORT}`;
    const retryUntil = await until('the delay warning in alice\'s INBOX', async () => {
      const list = await run('curl', ['-s', `${pop}/`, '--user', 'alice@alpha.test:secret']);
      for (const line of list.stdout.trim().split('\n').reverse()) {
        const message = await run('curl', ['-s', `${pop}/${line.split(' ')[0]}`, '--user', 'alice@alpha.test:secret']);
        if (/^Subject: exercise 16/mu.test(message.stdout) && /^Action: delayed/mu.test(message.stdout)) return /^Will-Retry-Until: (.+?)\r?$/mu.exec(message.stdout)?.[1];
      }
      return undefined;
    });
    const fired = await npmRun('chaos', '--mta', 'beta-mx1', 'list');
    assert.match(fired.stdout, /exercise-16/u);
    for (const mx of ['beta-mx1', 'beta-mx2']) assert.equal((await npmRun('chaos', '--mta', mx, 'clear', 'exercise-16')).code, 0);
    assert.equal((await npmRun('queue', '--mta', 'alpha-mta', 'retry', queueId)).code, 0);
    const out = await eventuallyPasses(16, () => retryUntil);
    assert.match(out, /✔ alice has a delay warning for "exercise 16"/u);
    assert.match(out, /✔ alpha-mta's log: \d+ deferred attempts/u);
  });
  it('17: a forged From: alice refused by DMARC at beta-mx1, the real alice passes', async () => {
    for (const name of ['alpha.test', 'lab1._domainkey.alpha.test', '_dmarc.alpha.test']) assert.ok((await dig(name, 'TXT')).length > 0, name);
    const port = String(lab.env.MXLAB_BETA_MX1_PORT);
    const forged = await run('swaks', ['--server', `127.0.0.1:${port}`, '--from', 'alice@alpha.test', '--to', 'bob@beta.test',
      '--header', 'From: Alice <alice@alpha.test>', '--header', 'Subject: exercise 17 forged', '--body', 'Please send me your password.']);
    assert.notEqual(forged.code, 0);
    const reply = /<\*\*\s+(550 5\.7\.1 .*)$/mu.exec(forged.stdout)?.[1] ?? '';
    assert.match(reply, /^550 5\.7\.1 Message refused by DMARC policy: From domain alpha\.test fails DMARC \(spf=fail, dkim=none/u, forged.stdout);
    assert.equal((await swaksAsAlice('bob@beta.test', 'exercise 17 real')).code, 0);
    const spf = /\bspf=(\w+)/u.exec(reply)?.[1] ?? '';
    const policy = /\b(p=\w+)/u.exec(reply)?.[1] ?? '';
    const wrong = await exercise('check', '17', '--answer', `spf=${spf} p=none`);
    assert.equal(wrong.code, 1, wrong.stdout);
    const out = await eventuallyPasses(17, () => `spf=${spf} ${policy}`);
    assert.match(out, /✔ bob has alice's real "exercise 17 real"/u);
    assert.match(out, /✔ beta-mx1's log: it refused a message whose From domain alpha\.test failed DMARC/u);
  });

  it('18: a body changed at the backup MX: refused at beta-mx1, and the bounce names the hop', async () => {
    const rule = JSON.stringify({ id: 'exercise-18', stage: 'outbound', match: { exchange: 'mx1.beta.test' }, fault: 'alter-body' });
    assert.equal((await npmRun('lab', 'stop', 'beta-mx1')).code, 0);
    try {
      assert.equal((await npmRun('chaos', '--mta', 'beta-mx2', 'set', rule)).code, 0);
      const sent = await swaksAsAlice('bob@beta.test', 'exercise 18', ['--body', 'The meeting is at 10 in room 4.']);
      assert.equal(sent.code, 0, sent.stdout);
      await until('the message on beta-mx2', async () => /\n\s+bob@beta\.test\s+deferred/u.test((await npmRun('queue', '--mta', 'beta-mx2', 'list')).stdout) || undefined);
    } finally {
      assert.equal((await npmRun('lab', 'start', 'beta-mx1')).code, 0);
    }
    assert.equal((await npmRun('queue', '--mta', 'beta-mx2', 'flush')).code, 0);
    const pop = `pop3://127.0.0.1:${lab.env.MXLAB_ALPHA_POP3_PORT}`;
    const hop = await until('the bounce in alice\'s INBOX', async () => {
      const list = await run('curl', ['-s', `${pop}/`, '--user', 'alice@alpha.test:secret']);
      for (const line of list.stdout.trim().split('\n').reverse()) {
        const message = (await run('curl', ['-s', `${pop}/${line.split(' ')[0]}`, '--user', 'alice@alpha.test:secret'])).stdout;
        if (!/^Subject: exercise 18/mu.test(message) || !/^Diagnostic-Code: smtp; 550 5\.7\.1 /mu.test(message)) continue;
        return /^Authentication-Results: ([\w.-]+);\r?\n\s+dkim=pass/mu.exec(message)?.[1];
      }
      return undefined;
    });
    assert.equal(hop, 'mx2.beta.test');
    const early = await exercise('check', '18', '--answer', hop);
    assert.equal(early.code, 1, 'not done while the rule is still on beta-mx2');
    assert.match(early.stdout, /✘ beta-mx2 still has an alter-body rule/u);
    const fired = await npmRun('chaos', '--mta', 'beta-mx2', 'list');
    assert.match(fired.stdout, /exercise-18/u);
    assert.equal((await npmRun('chaos', '--mta', 'beta-mx2', 'clear', 'exercise-18')).code, 0);
    const wrong = await exercise('check', '18', '--answer', 'beta-mx1');
    assert.equal(wrong.code, 1, wrong.stdout);
    const out = await eventuallyPasses(18, () => 'beta-mx2');
    assert.match(out, /✔ the bounce's copy of the headers holds the check of mx2\.beta\.test/u);
  });
  it('19: a DKIM key rotation: lab2 made, refused until published, signed with; lab1 kept', async () => {
    const dkim = (method: string, path: string, body?: unknown) =>
      run('curl', ['-s', '-X', method, `http://${NET}.0.10:8026/dkim${path}`, ...(body === undefined ? [] : ['-H', 'content-type: application/json', '-d', JSON.stringify(body)])]);
    assert.match((await dkim('GET', '')).stdout, /"signing":\["lab1","lab1e"\]/u);
    const made = JSON.parse((await dkim('POST', '/keys', { domain: 'alpha.test', selector: 'lab2' })).stdout) as { zoneLine: string };
    assert.match(made.zoneLine, /^lab2\._domainkey IN TXT \( "v=DKIM1; k=rsa; p=/u);
    const early = JSON.parse((await dkim('PUT', '/signing', { domain: 'alpha.test', selectors: ['lab2'] })).stdout) as { error?: string };
    assert.match(early.error ?? '', /lab2\._domainkey\.alpha\.test is not published yet/u);
    const zone = join(zonesDir, 'alpha.test.zone');
    await writeFile(zone, (await readFile(zone, 'utf8')).replace(/(\d{10}) ; serial/u, (_all, serial: string) => `${Number(serial) + 1} ; serial`));
    await appendFile(zone, `${made.zoneLine}\n`);
    await until('lab2 in the lab DNS', async () => ((await dig('lab2._domainkey.alpha.test', 'TXT')).length > 0 ? true : undefined));
    const switched = JSON.parse((await dkim('PUT', '/signing', { domain: 'alpha.test', selectors: ['lab2'] })).stdout) as { signing?: string[] };
    assert.deepEqual(switched.signing, ['lab2']);
    assert.equal((await swaksAsAlice('bob@beta.test', 'exercise 19')).code, 0);
    const answer = await run('dig', ['@127.0.0.1', '-p', String(lab.env.MXLAB_DNS_PORT), '+noall', '+answer', 'lab1._domainkey.alpha.test', 'TXT']);
    const ttl = answer.stdout.trim().split(/\s+/u)[1] ?? '';
    assert.match(ttl, /^\d+$/u, answer.stdout);
    const wrong = await exercise('check', '19', '--answer', String(Number(ttl) + 1));
    assert.equal(wrong.code, 1, wrong.stdout);
    const out = await eventuallyPasses(19, () => ttl);
    assert.match(out, /✔ bob has "exercise 19", signed s=lab2/u);
    assert.deepEqual((JSON.parse((await dkim('PUT', '/signing', { domain: 'alpha.test', selectors: ['lab1', 'lab1e'] })).stdout) as { signing: string[] }).signing, ['lab1', 'lab1e']);
  });
});
