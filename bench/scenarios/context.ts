/** What every scenario gets, and the helpers they share: counting, waiting, memory. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ImapClient } from '../clients/imap.ts';
import { statusMessages } from '../clients/imap-wire.ts';
import type { ProcessMemory } from '../lib/memory.ts';
import type { BenchOptions } from '../lib/options.ts';
import type { BenchTarget } from '../lib/target.ts';

export interface ScenarioContext {
  options: BenchOptions;
  target: BenchTarget;
  say(line: string): void;
}

export const BENCH_DOMAIN = 'beta.test';

/** Messages in a Maildir folder (new/ + cur/); 0 when it does not exist yet. */
export async function countMaildir(dir: string): Promise<number> {
  let total = 0;
  for (const sub of ['new', 'cur']) {
    try {
      total += (await readdir(join(dir, sub))).length;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return total;
}

export function maildirOf(target: BenchTarget, local: string, domain = BENCH_DOMAIN): string | undefined {
  return target.mailRoot === undefined ? undefined : join(target.mailRoot, domain, local);
}

/** A logged-in IMAP session that answers "how many messages in these mailboxes" (STATUS). */
export class MailboxCounter {
  private readonly client: ImapClient;

  private constructor(client: ImapClient) {
    this.client = client;
  }

  static async open(target: BenchTarget, user: string): Promise<MailboxCounter> {
    const client = await ImapClient.connect({ host: target.host, port: target.ports.betaImap });
    await client.login(user, target.password);
    return new MailboxCounter(client);
  }

  async count(mailbox: string): Promise<number> {
    try {
      const completion = await this.client.run(`STATUS ${mailbox} (MESSAGES)`);
      return statusMessages(completion.untagged) ?? 0;
    } catch (error) {
      if (error instanceof Error && error.name === 'ImapError') return 0;
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.client.logout().catch(() => undefined);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it reaches `goal()` (which may move as results come in); gives up when the value has not moved for
 * `stallMs`. Returns the last value and the wall-clock time it reached the goal.
 */
export async function waitForCount(
  probe: () => Promise<number>,
  goal: () => number,
  options: { intervalMs: number; stallMs: number },
): Promise<{ value: number; at: number | undefined }> {
  let value = await probe();
  let movedAt = Date.now();
  while (value < goal()) {
    if (Date.now() - movedAt > options.stallMs) return { value, at: undefined };
    await sleep(options.intervalMs);
    const next = await probe();
    if (next !== value) movedAt = Date.now();
    value = next;
  }
  return { value, at: performance.timeOrigin + performance.now() };
}

/** Samples agent memory while a scenario runs and keeps each agent's highest figures. */
export class MemoryWatch {
  private readonly peaks: Record<string, ProcessMemory> = {};
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();
  private readonly target: BenchTarget;

  constructor(target: BenchTarget) {
    this.target = target;
  }

  private async sample(): Promise<void> {
    const now = await this.target.memory().catch(() => ({}) as Record<string, ProcessMemory>);
    for (const [agent, memory] of Object.entries(now)) {
      const seen = this.peaks[agent];
      this.peaks[agent] = seen ? { rssMb: Math.max(seen.rssMb, memory.rssMb), peakMb: Math.max(seen.peakMb, memory.peakMb) } : memory;
    }
  }

  async start(intervalMs = 1000): Promise<boolean> {
    const reset = await this.target.resetPeaks();
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample());
    }, intervalMs);
    return reset;
  }

  /** Each agent's peak memory in MB over the window. */
  async stop(): Promise<Record<string, number>> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    return Object.fromEntries(Object.entries(this.peaks).map(([agent, memory]) => [agent, memory.peakMb]));
  }
}
