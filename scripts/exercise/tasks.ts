/**
 * Conventions the exercises share: the subject a task asks for (`exercise N`, so every
 * check finds the trainee's own messages and no other's), and answers read as numbers.
 */
import type { StoredMessage } from './probes.ts';

/** The Subject the doc of exercise `n` asks for: contains `exercise n` (not `exercise n0`). */
export function subjectIs(message: StoredMessage, n: number, extra = ''): boolean {
  const pattern = new RegExp(`\\bexercise ${n}\\b${extra ? `.*\\b${extra}\\b` : ''}`, 'iu');
  return pattern.test(message.subject);
}

/** The first whole number in an answer, or undefined. */
export function numberIn(answer: string | undefined): number | undefined {
  const match = /-?\d+(?:\.\d+)?/u.exec(answer ?? '');
  return match ? Number(match[0]) : undefined;
}
