/**
 * Fault suite, kill -9 mid-burst (issue 15): 2,000 messages alice → bob through the
 * no-Docker lab while every agent in turn is killed with SIGKILL (the launcher restarts
 * each). Every message that got its 250 arrives exactly once; every other arrives at
 * most once. The lab runs on its own loopback net (127.94.x).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLabProcess, type LabProcess } from '../scripts/lab-process.ts';
import type { AgentName } from '../shared/lab.ts';
import { killAgent, report, sendBurst, settle } from './lib.ts';

const MESSAGES = 2000;
/** Every agent of the lab, the hops of the journey first, then the chain's MTAs and MDA once more. */
const KILL_ORDER: AgentName[] = ['alpha-mta', 'beta-mx1', 'caller', 'beta-mda', 'beta-mx2', 'dns', 'beta-mra', 'alpha-mda', 'alpha-mra', 'mua', 'beta-mx1', 'beta-mda'];
const KILL_EVERY = Math.floor(MESSAGES / (KILL_ORDER.length + 1));

describe('fault suite: kill -9 of every agent in turn mid-burst', () => {
  let lab: LabProcess;
  before(async () => {
    lab = await startLabProcess({ loopbackNet: '127.94' });
  });
  after(async () => {
    await lab?.stop();
  });

  it('delivers every accepted message exactly once, and nothing twice', async () => {
    const killed: string[] = [];
    const burst = await sendBurst(lab, {
      label: 'killburst',
      count: MESSAGES,
      during: async (n) => {
        if (n % KILL_EVERY !== 0) return;
        const agent = KILL_ORDER[n / KILL_EVERY - 1];
        if (!agent) return;
        try {
          await killAgent(lab, agent);
          killed.push(agent);
        } catch (error) {
          // Still restarting from an earlier kill: its old pid is gone.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      },
    });
    const counts = await settle(lab, burst, 'killburst');
    report('kill -9 mid-burst', counts, { killed: killed.join(' ') });
    assert.ok(killed.length >= KILL_ORDER.length - 1, `agents killed: ${killed.join(', ')}`);
    assert.ok(counts.accepted >= MESSAGES / 2, `most of the burst is accepted (${counts.accepted}); first errors: ${burst.errors.join(' | ')}`);
    assert.equal(counts.lost, 0, 'no accepted message is lost');
    assert.equal(counts.duplicated, 0, 'no message is delivered twice');
    assert.match(lab.output(), /died \(SIGKILL\); restarting/u);
    assert.doesNotMatch(lab.output(), /mxlab stopped/u, 'the lab kept running');
  });
});
