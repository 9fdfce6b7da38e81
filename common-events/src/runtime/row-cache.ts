import { LRUCache } from 'lru-cache';
import type { Doc } from './projection';

const ABSENT = Symbol('absent');

/**
 * The view rows an aggregator has read or written, as they are in Postgres after its last batch,
 * and, apart from them, the rows of batches still committing (never evicted: the next batch is
 * folded on them, and Postgres does not have them yet). The active instance is the only writer of
 * its views, so a batch reads from here instead of selecting every row it touches. Knows absent
 * rows too. Cleared whenever a batch fails or the checkpoint moved under the aggregator.
 */
export class RowCache {
  private readonly rows: LRUCache<string, Doc | typeof ABSENT> | undefined;
  private readonly staged = new Map<string, { doc: Doc | null; batch: number }>();
  /**
   * While set: a 30-bit hash of the key of every row written by this instance since its views were
   * empty (small integers: some 22 bytes a row, where the keys would take over a hundred). A key
   * whose hash is not in it is absent without asking Postgres (a rebuild from the start of EVENTS
   * never reads a row back); one whose hash is in it may exist, and is loaded. A deleted row's hash
   * stays (another key may share it). Dropped past `maxKnown` keys, and on `clear()`.
   */
  private known: Set<number> | undefined;

  constructor(
    max: number,
    private readonly maxKnown = 2_000_000,
  ) {
    this.rows = max > 0 ? new LRUCache({ max }) : undefined;
  }

  /** The views are empty: from now on this cache learns of every row as it is written. */
  knowsEveryRow(): void {
    this.known = new Set();
  }

  /** The row (null: known to be absent), or undefined when it has to be loaded. */
  get(key: string): Doc | null | undefined {
    const staged = this.staged.get(key);
    if (staged) return staged.doc;
    const v = this.rows?.get(key);
    if (v !== undefined) return v === ABSENT ? null : v;
    return this.known && !this.known.has(keyHash(key)) ? null : undefined;
  }

  /** A row as Postgres has it. */
  set(key: string, doc: Doc | null): void {
    this.rows?.set(key, doc ?? ABSENT);
  }

  /** A row as batch `batch` writes it, before that batch has committed. */
  stage(key: string, doc: Doc | null, batch: number): void {
    this.staged.set(key, { doc, batch });
    if (!this.known || doc === null) return;
    this.known.add(keyHash(key));
    if (this.known.size > this.maxKnown) this.known = undefined;
  }

  /** Batch `batch` committed: its rows are what Postgres has (unless a later batch staged them again). */
  committed(batch: number, keys: Iterable<string>): void {
    for (const key of keys) {
      const staged = this.staged.get(key);
      if (staged?.batch !== batch) continue;
      this.staged.delete(key);
      this.set(key, staged.doc);
    }
  }

  /** Forgets everything, also that it knew every row (a failed batch may have staged rows that never landed). */
  clear(): void {
    this.staged.clear();
    this.rows?.clear();
    this.known = undefined;
  }
}

/** FNV-1a over the key's UTF-16 code units, cut to 30 bits (a V8 small integer). */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}
