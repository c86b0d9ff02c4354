/**
 * The exercises: every `docs/lab/NN-name.md` with its check `scripts/exercise/exercises/NN-name.ts`.
 * The number is the file name's; the title is the doc's first heading (`# N. Title`).
 * Adding an exercise is adding those two files (docs/lab/README.md, "How to add an exercise").
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExerciseModule } from './exercise.ts';

const root = join(import.meta.dirname, '..', '..');
export const DOCS_DIR = join(root, 'docs', 'lab');
export const CHECKS_DIR = join(import.meta.dirname, 'exercises');

export interface ExerciseEntry {
  number: number;
  /** `NN-name`, the base name both files share. */
  name: string;
  title: string;
  docPath: string;
  checkPath: string;
}

const FILE_NAME = /^(\d{2})-[a-z0-9-]+\.ts$/u;

function titleOf(docPath: string, name: string): string {
  if (!existsSync(docPath)) return name;
  const heading = readFileSync(docPath, 'utf8').split('\n').find((line) => line.startsWith('# '));
  return heading?.replace(/^#\s+\d+\.\s*/u, '').trim() ?? name;
}

/** Every exercise, by number. Two checks with one number are a mistake reported here. */
export function listExercises(checksDir = CHECKS_DIR, docsDir = DOCS_DIR): ExerciseEntry[] {
  const entries: ExerciseEntry[] = [];
  for (const file of readdirSync(checksDir).sort()) {
    const match = FILE_NAME.exec(file);
    if (!match || file.endsWith('.test.ts')) continue;
    const name = file.slice(0, -'.ts'.length);
    const number = Number(match[1]);
    const clash = entries.find((entry) => entry.number === number);
    if (clash) throw new Error(`two exercises numbered ${number}: ${clash.name} and ${name}`);
    const docPath = join(docsDir, `${name}.md`);
    entries.push({ number, name, title: titleOf(docPath, name), docPath, checkPath: join(checksDir, file) });
  }
  return entries;
}

export async function loadCheck(entry: ExerciseEntry): Promise<ExerciseModule['check']> {
  const module = (await import(pathToFileURL(entry.checkPath).href)) as Partial<ExerciseModule>;
  if (typeof module.check !== 'function') throw new Error(`${entry.checkPath} exports no check function`);
  return module.check;
}
