import { subscribeNotices, type Messaging, type Notice } from '@devpie/client-events';

type Listener = () => void;

/**
 * Fans the projects aggregator's commit notices out to the live streams watching a row: one NATS
 * subscription for the app, however many clients. A stream watches its project's row and, for a
 * team project, the caller's `team_members` row (so losing access is noticed at once).
 */
export class LiveBoards {
  private readonly watchers = new Map<string, Set<Listener>>();
  private readonly streams = new Set<() => void>();
  private subscription?: { close(): void };

  constructor(
    private readonly messaging: Messaging,
    private readonly schema: string,
  ) {}

  start(): void {
    this.subscription = subscribeNotices(this.messaging, 'projects', (n) => this.dispatch(n));
  }

  /** Ends every open stream (their clients reconnect elsewhere) and stops listening. */
  stop(): void {
    for (const end of [...this.streams]) end();
    this.subscription?.close();
    this.subscription = undefined;
  }

  /** Streams open now; each holds one entry per watched row. */
  get size(): number {
    return this.streams.size;
  }

  /** Calls `listener` after each commit that changed one of `rows`; returns the way to stop. */
  watch(rows: { table: string; id: string }[], listener: Listener, end: () => void): () => void {
    const keys = rows.map((r) => `${r.table}\u0000${r.id}`);
    for (const key of keys) {
      const set = this.watchers.get(key) ?? new Set();
      set.add(listener);
      this.watchers.set(key, set);
    }
    this.streams.add(end);
    return () => {
      this.streams.delete(end);
      for (const key of keys) {
        const set = this.watchers.get(key);
        set?.delete(listener);
        if (set?.size === 0) this.watchers.delete(key);
      }
    };
  }

  /** Rows watched at the moment (for tests: none once every client is gone). */
  get watchedRows(): number {
    return this.watchers.size;
  }

  private dispatch(notice: Notice): void {
    // a second aggregator (a replay into another schema) announces under the same name
    if (notice.schema !== this.schema) return;
    const due = new Set<Listener>();
    for (const change of notice.changes) {
      for (const l of this.watchers.get(`${change.table}\u0000${change.id}`) ?? []) due.add(l);
    }
    for (const l of due) l();
  }
}
