/**
 * The Foundation's "done when", automated: `npm start` brings the whole chain up; swaks
 * submits as alice to bob through alpha-mta; curl reads it over POP3 from beta-mra with a
 * Received header from each MTA hop. The lab under test runs on its own loopback network
 * (127.29.x) and free host ports, so it does not collide with a lab already running.
 */
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOST_ENDPOINTS } from '../shared/lab.ts';

const root = join(import.meta.dirname, '..');
const START_TIMEOUT_MS = 90_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as NodeJS.ErrnoException).code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('npm start (no-Docker lab)', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, MXLAB_LOOPBACK_NET: '127.29', LOG_LEVEL: 'info' };
  let lab: ReturnType<typeof spawn> | undefined;
  let stateDir = '';
  let output = '';

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'mxlab-lab-'));
    env.MXLAB_STATE_DIR = stateDir;
    for (const { env: variable } of Object.values(HOST_ENDPOINTS)) env[variable] = String(await freePort());
    lab = spawn(process.execPath, [join(root, 'scripts', 'lab.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    lab.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    lab.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until('the lab to come up', async () => {
      if (lab?.exitCode !== null) throw new Error(`the lab exited:\n${output}`);
      return output.includes('mxlab is up') ? true : undefined;
    }, START_TIMEOUT_MS);
  });

  after(async () => {
    if (lab && lab.exitCode === null) {
      lab.kill('SIGINT');
      await new Promise((resolve) => lab?.once('exit', resolve));
    }
    await rm(stateDir, { recursive: true, force: true });
  });

  it('prints the endpoints and the lab users', () => {
    assert.match(output, new RegExp(`${env.MXLAB_ALPHA_SUBMISSION_PORT}\\s+alpha submission`));
    assert.match(output, /alice@alpha\.test/);
    assert.match(output, /bob@beta\.test, carol@beta\.test/);
  });

  it('answers MX queries like CoreDNS', async () => {
    const dig = await run('dig', ['+short', '@127.0.0.1', '-p', String(env.MXLAB_DNS_PORT), 'beta.test', 'MX']);
    assert.equal(dig.code, 0, dig.stderr);
    assert.deepEqual(dig.stdout.trim().split('\n').sort(), ['10 mx1.beta.test.', '20 mx2.beta.test.']);
  });

  it('carries swaks mail from alice to bob, readable with curl over POP3', async () => {
    const subject = `lab test ${Date.now()}`;
    const swaks = await run('swaks', [
      '--server', `127.0.0.1:${env.MXLAB_ALPHA_SUBMISSION_PORT}`, '--tls',
      '--auth-user', 'alice@alpha.test', '--auth-password', 'secret',
      '--from', 'alice@alpha.test', '--to', 'bob@beta.test', '--header', `Subject: ${subject}`,
    ]);
    assert.equal(swaks.code, 0, swaks.stdout + swaks.stderr);
    assert.match(swaks.stdout, /<~\s+250 /);

    const message = await until('the message in bob\'s maildrop', async () => {
      for (let n = 1; n <= 20; n += 1) {
        const curl = await run('curl', ['-s', `pop3://127.0.0.1:${env.MXLAB_BETA_POP3_PORT}/${n}`, '--user', 'bob@beta.test:secret']);
        if (curl.code !== 0) return undefined;
        if (curl.stdout.includes(subject)) return curl.stdout;
      }
      return undefined;
    }, 60_000);
    assert.match(message, /Received: from [^\r\n]+\r?\n(\t[^\r\n]*\r?\n)*\tby mx\.alpha\.test /);
    assert.match(message, /Received: from [^\r\n]+\r?\n(\t[^\r\n]*\r?\n)*\tby mx1\.beta\.test /);
    assert.match(message, /^Delivered-To: bob@beta\.test/m);
    assert.match(message, /^Return-Path: <alice@alpha\.test>/m);
  });
});
