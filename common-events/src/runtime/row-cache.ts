import { LRUCache } from 'lru-cache';
import type { Doc } from './projection';

const ABSENT = Symbol('absent');

/**
 * The view rows an aggregator has read or written, as they are in Postgres after its last batch
 * (or will be, once the batch in flight commits): the active instance is the only writer of its
 * views, so a batch reads from here instead of selecting every row it touches. Knows absent rows
 * too. Cleared whenever a batch fails or the checkpoint moved under the aggregator.
 */
export class RowCache {
  private readonly rows: LRUCache<string, Doc | typeof ABSENT> | undefined;

  constructor(max: number) {
    this.rows = max > 0 ? new LRUCache({ max }) : undefined;
  }

  /** The row (null: known to be absent), or undefined when it has to be loaded. */
  get(key: string): Doc | null | undefined {
    const v = this.rows?.get(key);
    return v === ABSENT ? null : v;
  }

  set(key: string, doc: Doc | null): void {
    this.rows?.set(key, doc ?? ABSENT);
  }

  clear(): void {
    this.rows?.clear();
  }
}
