/**
 * What a test sees when the lab cannot do what it asked: each error names what failed
 * and, once containers ran, the folder holding every agent's log. Needs Docker.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_IMAGE, MailLab } from '../src/mail-lab.ts';
import { docker } from '../src/docker.ts';

// This machine kind has no registry for testcontainers' Ryuk image; every lab here is stopped by its test.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

describe('lab errors', () => {
  it('names a missing agents image and how to build it, before starting anything', async () => {
    await assert.rejects(new MailLab().withImage('mxlab/agents:no-such-version').start(), (error: Error) => {
      assert.match(error.message, /the agents' image mxlab\/agents:no-such-version is not on this Docker host: build it .*scripts\/build-agents-image\.sh/u);
      return true;
    });
  });

  it('refuses bad builder input at once, naming it', () => {
    assert.throws(() => new MailLab().withUsers({ address: 'dave@gamma.test', password: 'long-enough' }), /not an address of the lab/u);
    assert.throws(() => new MailLab().withUsers({ address: 'dave@beta.test', password: 'short' }), /dave@beta\.test needs 6 characters/u);
    assert.throws(() => new MailLab().withChaosPlan({ mtas: { 'gamma-mx1a': { rules: [] } } }), /"gamma-mx1a" is not an MTA of the lab/u);
    assert.throws(() => new MailLab().withSubnet('10.0.0.0/16'), /IPv4 \/24/u);
  });

  it('stops a lab whose fault plan the MTA refuses, naming the MTA, its answer and the log folder', async () => {
    let message = '';
    await assert.rejects(
      new MailLab().withChaosPlan({ mtas: { 'beta-mx1': { rules: [{ id: 'bad', stage: 'no-such-stage' }] } } }).start(),
      (error: Error) => {
        message = error.message;
        return true;
      },
    );
    assert.match(message, /^mail lab (mxlab-[0-9a-f]{8}): beta-mx1 admin PUT \/chaos\/rules: 400 .*invalid chaos plan/u);
    const project = /^mail lab (mxlab-[0-9a-f]{8})/u.exec(message)?.[1] ?? '';
    const dir = /every agent's log is in (\S+)$/u.exec(message)?.[1] ?? '';
    assert.ok(existsSync(join(dir, 'beta-mx1.log')), `${dir}/beta-mx1.log exists`);
    const left = await docker(['ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${project}`]);
    assert.equal(left.trim(), '', `no container of ${project} is left`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the agent that did not start and the folder of every log, and leaves nothing behind', async (t) => {
    // The agents' image without the MTA's entry point: every MTA container exits at once.
    const broken = 'mxlab/agents:test-no-mta';
    const built = spawnSync('docker', ['build', '--quiet', '--tag', broken, '-'], {
      input: `FROM ${process.env.MXLAB_AGENTS_IMAGE || DEFAULT_IMAGE}\nUSER root\nRUN rm /app/services/mta/main.ts\nUSER node\n`,
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);
    t.after(() => void spawnSync('docker', ['rmi', '--force', broken]));
    let message = '';
    await assert.rejects(new MailLab().withImage(broken).withStartupTimeout(60_000).start(), (error: Error) => {
      message = error.message;
      return true;
    });
    // Named either way: seen exiting while testcontainers waits for it, or already gone when it looks.
    assert.match(message, /^mail lab (mxlab-[0-9a-f]{8}) on 172\.28\.\d+\.0\/24 did not start: (alpha-mta|beta-mx1|beta-mx2)(, [a-z0-9-]+)* (did not start serving \(|stopped as soon as)/u);
    const dir = /every agent's log is in (\S+)$/u.exec(message)?.[1] ?? '';
    const agent = /did not start: ([a-z0-9-]+)/u.exec(message)?.[1] ?? '';
    assert.match(readFileSync(join(dir, `${agent}.log`), 'utf8'), /services\/mta\/main\.ts|Cannot find module/u);
    const project = /^mail lab (mxlab-[0-9a-f]{8})/u.exec(message)?.[1] ?? '';
    const left = await docker(['ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${project}`]);
    assert.equal(left.trim(), '', `no container of ${project} is left`);
    rmSync(dir, { recursive: true, force: true });
  });
});
