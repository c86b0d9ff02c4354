/**
 * When the no-Docker launcher restarts an agent that died on its own: the policy of
 * compose's `restart: unless-stopped` (Docker doubles the delay from 100 ms up to a
 * minute, and forgets it once the container has run for 10 s), in one pure function so
 * that it is tested without processes.
 */

/** Delay before the first restart. */
export const RESTART_FIRST_DELAY_MS = 250;
/** Longest delay between two restarts of a crash-looping agent. */
export const RESTART_MAX_DELAY_MS = 30_000;
/** An agent that ran this long before dying starts again from the first delay. */
export const RESTART_STABLE_AFTER_MS = 10_000;

/**
 * The wait before the next start, given the wait before the last one (undefined: never
 * restarted) and how long the agent ran since.
 */
export function nextRestartDelay(previousDelayMs: number | undefined, ranForMs: number): number {
  if (previousDelayMs === undefined || ranForMs >= RESTART_STABLE_AFTER_MS) return RESTART_FIRST_DELAY_MS;
  return Math.min(previousDelayMs * 2, RESTART_MAX_DELAY_MS);
}
