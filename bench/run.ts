/**
 * `npm run bench`: starts the no-Docker lab on its own loopback network (or uses a
 * running compose stack), runs the chosen scenarios with load from worker processes,
 * prints the figures next to the targets and the Postfix + Dovecot reference, and
 * writes bench/results/<date>.json, latest.json and bench/README-section.md.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAverage, runContext } from './lib/machine.ts';
import { parseOptions, SCENARIOS, USAGE, type BenchOptions, type Scenario } from './lib/options.ts';
import { renderReadmeSection } from './lib/readme-section.ts';
import { measuredFigures, renderText, writeReport, type BenchReport, type ScenarioResults } from './lib/report.ts';
import { REFERENCE_STACK } from './lib/reference.ts';
import { BENCH_LOOPBACK_NET, composeTarget, noTarget, startLabTarget, type BenchTarget } from './lib/target.ts';
import type { ScenarioContext } from './scenarios/context.ts';
import { RUNNERS } from './scenarios/index.ts';

/** The scenarios bench/README-section.md shows (labstart, Docker's, is in the module's README). */
const README_SCENARIOS = SCENARIOS.filter((scenario) => scenario !== 'labstart');

const benchDir = import.meta.dirname;
const root = join(benchDir, '..');

function say(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function runAll(options: BenchOptions, target: BenchTarget): Promise<Pick<BenchReport, 'results' | 'failures'>> {
  const context: ScenarioContext = { options, target, say };
  const results: ScenarioResults = {};
  const failures: BenchReport['failures'] = {};
  for (const scenario of options.only) {
    const started = performance.now();
    try {
      (results as Record<Scenario, unknown>)[scenario] = await RUNNERS[scenario](context);
      say(`${scenario} done in ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      failures[scenario] = (error as Error).message;
      say(`${scenario} FAILED: ${(error as Error).message}`);
    }
  }
  return { results, failures };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const startLoad = loadAverage();
  // labstart starts labs of its own: alone, it needs no lab behind it.
  const needsTarget = options.only.some((scenario) => scenario !== 'labstart');
  if (needsTarget) say(options.target === 'lab' ? `starting the no-Docker lab on ${BENCH_LOOPBACK_NET}.0.X …` : 'using the compose stack on 127.0.0.1');
  let target: BenchTarget;
  try {
    target = !needsTarget ? noTarget() : options.target === 'lab' ? await startLabTarget() : await composeTarget(options.ca);
  } catch (error) {
    process.stderr.write(`bench: cannot reach the ${options.target === 'lab' ? 'no-Docker lab' : 'compose stack'}: ${(error as Error).message}\n`);
    return 1;
  }
  let outcome: Pick<BenchReport, 'results' | 'failures'>;
  const stop = () => void target.stop().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    outcome = await runAll(options, target);
  } finally {
    process.off('SIGINT', stop);
    await target.stop();
  }
  const { help: _help, ca: _ca, ...shown } = options;
  const report: BenchReport = {
    context: runContext(root, startLoad),
    target: options.target,
    options: shown,
    referenceStack: REFERENCE_STACK,
    figures: measuredFigures(outcome.results),
    ...outcome,
  };
  process.stdout.write(`\n${renderText(report)}\n\n`);
  const written = await writeReport(join(benchDir, 'results'), report);
  say(`results: ${written} (and latest.json)`);
  if (options.target === 'lab' && README_SCENARIOS.every((scenario) => options.only.includes(scenario)) && Object.keys(outcome.failures).length === 0) {
    await writeFile(join(benchDir, 'README-section.md'), renderReadmeSection(report));
    say('README section: bench/README-section.md');
  }
  return Object.keys(outcome.failures).length > 0 ? 1 : 0;
}

process.exitCode = await main();
