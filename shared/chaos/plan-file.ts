/**
 * A fault plan from a file (MTA_CHAOS_PLAN at start, `npm run chaos -- load`): either one
 * MTA's plan, `{"rules": [...]}`, or a lab plan, `{"mtas": {"beta-mx1": {"rules": [...]}}}`,
 * from which each MTA takes its own entry (none: no rules).
 */
import { readFile } from 'node:fs/promises';
import { isLabPlan, splitLabPlan, type ChaosPlan } from './rules.ts';

export class PlanFileError extends Error {
  override readonly name = 'PlanFileError';
}

export async function readPlanFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PlanFileError(`cannot read the chaos plan ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PlanFileError(`the chaos plan ${path} is not JSON: ${(error as Error).message}`);
  }
}

/** The plans a file holds, by MTA name; a one-MTA plan is under `undefined` (the MTA asked). */
export function plansOf(input: unknown, source: string): Map<string | undefined, ChaosPlan> {
  if (!isLabPlan(input)) return new Map([[undefined, input as ChaosPlan]]);
  const split = splitLabPlan(input);
  if (!split.ok) throw new PlanFileError(`invalid chaos plan ${source}: ${split.error}`);
  return new Map(Object.entries(split.value.mtas));
}

/** The plan of one MTA in a file's contents. */
export function planFor(input: unknown, mtaName: string, source: string): ChaosPlan {
  const plans = plansOf(input, source);
  return plans.get(undefined) ?? plans.get(mtaName) ?? { rules: [] };
}
