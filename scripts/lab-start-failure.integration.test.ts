/**
 * The no-Docker lab's first start, when an agent dies before it answers: the launcher stops
 * there, exits 1 and never says "mxlab is up". (It used to go on with the next stages while
 * it stopped, and once printed "up" for a lab that was going away: a test lab's agents were
 * all gone a moment after it came up.) Own loopback network 127.44, free host ports.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../shared/free-port.ts';
import { HOST_ENDPOINTS } from '../shared/lab.ts';
import { runProcess } from '../shared/testing/processes.ts';

const root = join(import.meta.dirname, '..');

describe('the lab\'s first start with an agent that dies before it is ready (127.44)', () => {
  it('stops at that agent: exit 1, no later stage started, never "mxlab is up"', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'mxlab-start-failure-'));
    try {
      // A lab fault plan whose beta-mx2 entry is no plan: beta-mx2 (the MTA stage) exits 1 at start,
      // after every port was found free; the web mail (the last stage) must never be started.
      const planFile = join(stateDir, 'plan.json');
      await writeFile(planFile, JSON.stringify({ mtas: { 'beta-mx2': { rules: [{ when: 'nonsense' }] } } }));
      const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', MXLAB_LOOPBACK_NET: '127.44', MXLAB_STATE_DIR: join(stateDir, 'lab'), MXLAB_CHAOS_PLAN: planFile };
      for (const { env: variable } of Object.values(HOST_ENDPOINTS)) env[variable] = String(await freePort());

      const result = await runProcess(process.execPath, [join(root, 'scripts', 'lab.ts')], { env, timeoutMs: 120_000 });
      const output = result.stdout.toString() + result.stderr;
      assert.equal(result.code, 1, output);
      assert.match(output, /beta-mx2 stopped \(exit 1\)/u);
      assert.match(output, /mxlab stopped after an error\./u);
      assert.doesNotMatch(output, /mxlab is up/u);
      const logs = await readdir(join(stateDir, 'lab', 'logs'));
      assert.ok(logs.includes('beta-mx2.log'), logs.join(' '));
      assert.ok(!logs.includes('mua.log'), `the web mail was started after beta-mx2 died: ${logs.join(' ')}`);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
