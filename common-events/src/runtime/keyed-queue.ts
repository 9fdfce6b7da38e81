/**
 * Runs tasks one at a time per key and up to `limit` keys at once: commands for one entity in
 * order, commands for different entities concurrently.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.tails.size;
  }

  /** Resolves once the task is queued (back-pressure); `done` settles when it has run. */
  async push(key: string, task: () => Promise<void>): Promise<{ done: Promise<void> }> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const done = previous
      .then(task)
      .catch(() => undefined)
      .finally(() => {
        if (this.tails.get(key) === done) this.tails.delete(key);
        this.running--;
        this.waiting.shift()?.();
      });
    this.tails.set(key, done);
    return { done };
  }

  /** Settles when every queued task has run. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }
}
