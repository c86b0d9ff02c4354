/**
 * `npm run exercise -- list | show N | check N [--answer TEXT]`: the lab guide
 * (docs/lab/) from the shell. `check` looks at the running lab (mailboxes, queues, DNS,
 * logs) and at the answer, prints what is right (✔) and what is still missing (✘),
 * and exits 0 only when the exercise is done; 1 when it is not; 2 on a usage mistake.
 * MXLAB_EXERCISE_TARGET=compose checks a compose lab from inside its network.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { labTarget } from './lab.ts';
import { listExercises, loadCheck, type ExerciseEntry } from './registry.ts';
import type { Finding } from './exercise.ts';

const USAGE = `usage: npm run exercise -- list | show N | check N [--answer TEXT]
  (compose: docker compose run --rm exercise list | show N | check N [--answer TEXT])
`;

class UsageError extends Error {}

function find(entries: ExerciseEntry[], raw: string | undefined): ExerciseEntry {
  if (raw === undefined) throw new UsageError('which exercise? give its number');
  const entry = entries.find((item) => item.number === Number(raw));
  if (!/^\d+$/u.test(raw) || entry === undefined) throw new UsageError(`no exercise ${raw}; npm run exercise -- list shows them`);
  return entry;
}

function answerOf(args: string[]): string | undefined {
  const index = args.indexOf('--answer');
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (value === undefined) throw new UsageError('--answer needs a value (quote it when it has spaces)');
  args.splice(index, 2);
  return value.trim();
}

async function check(entry: ExerciseEntry, answer: string | undefined, out: NodeJS.WritableStream): Promise<number> {
  let findings: Finding[];
  try {
    const run = await loadCheck(entry);
    findings = await run({ lab: labTarget(), ...(answer === undefined ? {} : { answer }) });
  } catch (error) {
    findings = [{ ok: false, text: `the check could not look at the lab: ${(error as Error).message}` }];
  }
  out.write(`Exercise ${entry.number}. ${entry.title}\n`);
  for (const finding of findings) out.write(`  ${finding.ok ? '✔' : '✘'} ${finding.text}\n`);
  const missing = findings.filter((finding) => !finding.ok).length;
  if (findings.length > 0 && missing === 0) {
    out.write('Done: every part of the task is there.\n');
    return 0;
  }
  out.write(`Not done yet: ${missing} of ${findings.length} still missing (npm run exercise -- show ${entry.number} has the steps).\n`);
  return 1;
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const args = [...argv];
  try {
    const answer = answerOf(args);
    const [command, number, ...rest] = args;
    if (rest.length > 0) throw new UsageError(`unexpected ${rest.join(' ')}`);
    const entries = listExercises();
    switch (command) {
      case 'list':
        for (const entry of entries) out.write(`${String(entry.number).padStart(2)}  ${entry.title}  (${relative(process.cwd(), entry.docPath)})\n`);
        return 0;
      case 'show':
        out.write(readFileSync(find(entries, number).docPath, 'utf8'));
        return 0;
      case 'check':
        return await check(find(entries, number), answer, out);
      default:
        throw new UsageError(command === undefined ? 'no command' : `unknown command ${command}`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err.write(`exercise: ${error.message}\n${USAGE}`);
    return 2;
  }
}

if (import.meta.filename === process.argv[1]) process.exitCode = await main(process.argv.slice(2));
