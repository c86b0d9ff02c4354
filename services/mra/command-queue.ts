/**
 * Pipelined commands of a line protocol (IMAP, POP3), run one at a time in arrival
 * order. Reading pauses while more than `max` wait and resumes below half of that, so
 * a client that pipelines without end holds a bounded amount of memory.
 */
export interface CommandQueueOptions<T> {
  max: number;
  /** Runs one command; the next starts when it resolves. */
  run(item: T): Promise<void>;
  /** True once the session ends: what is still queued is not run. */
  stopped(): boolean;
  /** Stop and start reading the socket (the current one: STARTTLS replaces it). */
  pause(): void;
  resume(): void;
}

export class CommandQueue<T> {
  private readonly items: T[] = [];
  private running = false;
  private readonly options: CommandQueueOptions<T>;

  constructor(options: CommandQueueOptions<T>) {
    this.options = options;
  }

  push(...items: T[]): void {
    this.items.push(...items);
    if (this.items.length > this.options.max) this.options.pause();
    void this.drain();
  }

  /** RFC 3207 §4.2, RFC 2595 §4: nothing pipelined before a TLS upgrade is run after it. */
  clear(): void {
    this.items.length = 0;
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let item = this.items.shift(); item !== undefined && !this.options.stopped(); item = this.items.shift()) {
        if (this.items.length < this.options.max / 2) this.options.resume();
        await this.options.run(item);
      }
    } finally {
      this.running = false;
      if (!this.options.stopped()) this.options.resume();
    }
  }
}
