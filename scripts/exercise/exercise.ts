/**
 * What an exercise is, in code: a check that looks at the running lab (and at the
 * trainee's answer, when the task asks a question) and says what is right and what is
 * still missing. The exercise's number, name and text live in its doc file
 * `docs/lab/NN-name.md`; its check in `scripts/exercise/exercises/NN-name.ts`.
 */
import type { LabTarget } from './lab.ts';

/** One thing the check looked at: right (`ok`) or still missing, in plain words. */
export interface Finding {
  ok: boolean;
  text: string;
}

export interface CheckContext {
  lab: LabTarget;
  /** `--answer TEXT`, trimmed; undefined when none was given. */
  answer?: string;
}

export type Check = (context: CheckContext) => Promise<Finding[]>;

/** What each `exercises/NN-name.ts` module exports. */
export interface ExerciseModule {
  check: Check;
}

/** A finding whose text depends on whether it holds. */
export function expect(ok: boolean, right: string, missing: string): Finding {
  return { ok, text: ok ? right : missing };
}

/** The answer's words, lower-cased, for checks that look for values in free text. */
export function answerWords(answer: string | undefined): string[] {
  return (answer ?? '').toLowerCase().split(/[\s,;]+/u).filter((word) => word !== '');
}

/** A finding for a question: no answer yet, a wrong one, or the right one. */
export function answered(answer: string | undefined, correct: (answer: string) => boolean, question: string): Finding {
  if (answer === undefined || answer === '') return { ok: false, text: `no answer yet: ${question} (give it with --answer "...")` };
  return correct(answer)
    ? { ok: true, text: `your answer "${answer}" is right: ${question}` }
    : { ok: false, text: `your answer "${answer}" is not it yet: ${question}` };
}
