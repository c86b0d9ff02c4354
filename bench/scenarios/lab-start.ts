/**
 * `labstart` (issue 17): how long a test waits for a whole mail chain from the
 * testcontainers module. Starts LAB_START_RUNS labs one after the other, each timed from
 * `start()` until every agent logs that it serves (the agents' image present), and on the
 * last one times the first message alice → bob and a warm `reset()`. It needs Docker and
 * the agents' image; without them it is reported as not run, not as a failure.
 */
import { execFile } from 'node:child_process';
import { DEFAULT_IMAGE, MailLab } from '../../packages/testcontainers/src/mail-lab.ts';
import type { ScenarioContext } from './context.ts';

// This machine kind has no registry for testcontainers' Ryuk image; every lab here is stopped by its test.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const LAB_START_RUNS = 3;

export interface LabStartResult {
  /** The median of the runs. */
  startMs: number;
  runsMs: number[];
  firstMessageMs: number;
  resetMs: number;
}

function imagePresent(image: string): Promise<boolean> {
  return new Promise((resolve) => execFile('docker', ['image', 'inspect', image], { timeout: 30_000 }, (error) => resolve(!error)));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function runLabStart(context: ScenarioContext): Promise<LabStartResult | undefined> {
  const image = process.env.MXLAB_AGENTS_IMAGE || DEFAULT_IMAGE;
  if (!(await imagePresent(image))) {
    context.say(`labstart not run: no Docker, or no ${image} (bash scripts/build-agents-image.sh)`);
    return undefined;
  }
  const runsMs: number[] = [];
  let firstMessageMs = Number.NaN;
  let resetMs = Number.NaN;
  for (let run = 1; run <= LAB_START_RUNS; run += 1) {
    const lab = await new MailLab().start();
    try {
      runsMs.push(lab.startupMs);
      const { prepareMs, composeUpMs, agentsReadyMs } = lab.startupPhases;
      context.say(`labstart run ${run}: ${lab.startupMs} ms to every agent serving (${lab.subnet}): prepare ${prepareMs}, compose up ${composeUpMs}, agents ${agentsReadyMs} ms`);
      if (run === LAB_START_RUNS) {
        const sent = performance.now();
        await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'labstart', text: 'first message' });
        await lab.waitForMessage({ mailbox: 'bob@beta.test', where: { subject: 'labstart' } });
        firstMessageMs = performance.now() - sent;
        await lab.reset();
        resetMs = (await lab.reset()).ms;
      }
    } finally {
      await lab.stop();
    }
  }
  return { startMs: median(runsMs), runsMs, firstMessageMs, resetMs };
}
