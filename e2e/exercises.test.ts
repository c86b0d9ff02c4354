/**
 * The lab guide in compose: `docker compose run --rm exercise …` (the `exercise`
 * service, profile `tools`) lists the exercises and checks one against the containers.
 * Exercise 5 needs a container stopped, so it is done here as a trainee does it with
 * Docker: check fails on the fresh stack; beta-mx1 stopped, alice's message waits on
 * beta-mx2, beta-mx1 started, the queue flushed; check passes with the queue id.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startMailLab, type MailLab } from './fixture.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/e2e/exercises/', import.meta.url));
const POLL_MS = 1_000;
const WAIT_MS = 120_000;

let lab: MailLab;

/** `docker compose run --rm exercise ARGS` in the test's project; never rejects. */
function exercise(...args: string[]): Promise<{ code: number; stdout: string }> {
  const { dir, files, projectName, env } = lab.compose.project;
  const full = ['compose', '-p', projectName, ...files.flatMap((file) => ['-f', file]), 'run', '--rm', '-T', 'exercise', ...args];
  return new Promise((resolve) => {
    execFile('docker', full, { cwd: dir, env, timeout: 180_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: stdout + stderr });
    });
  });
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

describe('the lab guide in compose', () => {
  before(async () => {
    lab = await startMailLab({ logDirOnFailure: join(ARTIFACTS, 'startup') });
  });

  after(async () => {
    await lab?.stop();
  });

  it('lists the exercises and checks exercise 5 (backup MX) against the containers', async () => {
    const list = await exercise('list');
    assert.equal(list.code, 0, list.stdout);
    assert.ok(list.stdout.trim().split('\n').filter((line) => /^\s?\d+\s{2}\S/u.test(line)).length >= 12, list.stdout);

    const fresh = await exercise('check', '5', '--answer', 'nothing');
    assert.equal(fresh.code, 1, fresh.stdout);
    assert.match(fresh.stdout, /✘ bob@beta\.test has no "exercise 5"/u);

    await lab.compose.stop('beta-mx1');
    let started = false;
    try {
      await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'exercise 5', text: 'waiting on the backup' });
      const queueId = await until('the message on beta-mx2', async () => (await lab.queue('beta-mx2'))[0]?.queueId);
      await lab.compose.start('beta-mx1');
      started = true;
      await lab.flushQueue('beta-mx2');
      const passed = await until('check 5 to pass', async () => {
        const result = await exercise('check', '5', '--answer', queueId);
        return result.code === 0 ? result.stdout : undefined;
      });
      assert.match(passed, /✔ exactly one copy arrived/u);
    } catch (error) {
      await lab.saveLogs(join(ARTIFACTS, 'exercise-5'));
      throw error;
    } finally {
      if (!started) await lab.compose.start('beta-mx1');
    }
  });
});
