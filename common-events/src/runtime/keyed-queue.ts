/**
 * Runs tasks one at a time per key and up to `limit` at once: commands for one entity in order,
 * commands for different entities concurrently. A task takes one of the `limit` slots only once
 * the task before it on its key is done, so a busy entity never holds slots it cannot use.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Keys with tasks queued or running. */
  get size(): number {
    return this.tails.size;
  }

  /** Queues `task` behind the key's previous one; `done` settles once it has run (it never rejects). */
  push(key: string, task: () => Promise<void>): { done: Promise<void> } {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const done = previous
      .then(() => this.acquire())
      .then(async () => {
        try {
          await task();
        } finally {
          this.release();
        }
      })
      .catch(() => undefined)
      .finally(() => {
        if (this.tails.get(key) === done) this.tails.delete(key);
      });
    this.tails.set(key, done);
    return { done };
  }

  /** Settles when every queued task has run. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }

  private acquire(): Promise<void> | void {
    if (this.running < this.limit) {
      this.running++;
      return;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** The slot goes straight to the task waiting longest, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
