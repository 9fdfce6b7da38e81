import { AckPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Pool, PoolClient } from 'pg';
import type { Envelope } from '../envelope';
import { UnknownMessageTypeError } from '../errors';
import { UUID_PATTERN } from '../ids';
import type { Category } from '../names';
import { decode } from '../registry';
import { COMMAND_REJECTED, type CommandRejected } from '../rejections';
import { backoffMs, reopenUntilStopped, resetDurable, takesFilterSubjects, PULL_EXPIRES_MS } from './durable';
import type { Logger } from './logger';
import type { Messaging } from './messaging';
import type { Notice } from './notices';
import { park } from './parking';
import { inTransaction } from './postgres';
import type { Doc, Projection, RowKey, ViewWrite } from './projection';
import { RowCache } from './row-cache';
import { childWrites, type ChildWrite } from './split-docs';
import { rowKey, ViewStore, type CommandOutcome, type FencedWrite, type PendingWrite } from './view-store';

export interface AggregatorHooks {
  /**
   * After each commit: batch size, its duration, the consumer's pending count, and per event the
   * ms since its command was sent (`metadata.time`) when the batch's fold began and once it committed.
   */
  onBatch?(info: {
    size: number;
    ms: number;
    pending: number;
    commandToFoldMs: number[];
    commandToViewMs: number[];
  }): void;
  onParked?(reason: string): void;
  /** The leadership lock's Postgres connection broke: this instance stopped folding. */
  onFatal?(err: unknown): void;
  /**
   * Fault injection for tests: runs inside the transaction before COMMIT (the batch then commits
   * in two round trips instead of one), and after COMMIT before the ack.
   */
  beforeCommit?(batch: number[]): Promise<void> | void;
  afterCommit?(batch: number[]): Promise<void> | void;
}

export interface AggregatorOptions {
  messaging: Messaging;
  pool: Pool;
  projection: Projection;
  logger: Logger;
  /** Schema to write into; defaults to the namespaced projection schema. A replay writes into a new one. */
  schema?: string;
  /** Durable name (before namespacing); defaults to `<name>-aggregator`. */
  durable?: string;
  maxBatch?: number;
  /** How long JetStream waits for the ack of a batch before redelivering it. */
  ackWaitMs?: number;
  /** Longest a message waits in the buffer before its batch is folded. */
  maxWaitMs?: number;
  /**
   * Batches folded while the one before them still waits to commit (default 2): the fold keeps
   * going while Postgres commits, instead of waiting for each commit in turn.
   */
  foldAhead?: number;
  /** Attempts at folding one event before it is parked. */
  maxAttempts?: number;
  /** View rows kept in memory between batches (0: read every touched row from Postgres). */
  cacheRows?: number;
  /**
   * Longest the checkpoint stays unsaved while every batch holds only events this projection
   * ignores (they are acknowledged without a commit, and read again after a restart). Default 1 s.
   * A consumer filtered to the projection's categories is sent none of those: as often, while it
   * has nothing to fold, the checkpoint is moved up to the end of EVENTS.
   */
  idleCheckpointMs?: number;
  hooks?: AggregatorHooks;
  /**
   * Publish a commit notice after each batch (default true). A rebuild into a new schema publishes
   * none: apps waiting for a command's outcome must not take its commits for the live views'.
   */
  notices?: boolean;
}

export interface Aggregator {
  readonly views: ViewStore;
  readonly durable: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Highest stream sequence done with: committed, or acknowledged as holding nothing to write. */
  readonly position: number;
  /** consuming: started, not stopped, and not recreating its consumer at the checkpoint (readiness) */
  readonly bound: boolean;
}

/** Postgres's SQLSTATE for a duplicate key. */
const UNIQUE_VIOLATION = '23505';

/**
 * Whether a causation id can be a command's id, which the envelope's contract makes a uuid: only
 * those have an outcome. Any other (an event written by hand, the contract allows any short string)
 * would fail the outcomes' uuid column, and with it every attempt at its batch.
 */
const isCommandId = (id: string): boolean => UUID_PATTERN.test(id);

/** The batch's message with the highest stream sequence. */
const highestOf = (batch: JsMsg[]): JsMsg => batch.reduce((a, b) => (b.seq > a.seq ? b : a));

class FoldError extends Error {
  constructor(
    readonly seq: number,
    options: { cause: unknown },
  ) {
    const why = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`fold failed at stream sequence ${seq}${why}`, options);
    this.name = 'FoldError';
  }
}

/** The checkpoint was not where this instance left it: a replay switched the views, or another instance wrote. */
class CheckpointMovedError extends Error {
  constructor(expected: number) {
    super(`the checkpoint moved away from ${expected}`);
    this.name = 'CheckpointMovedError';
  }
}

/** A batch folded and ready to commit. */
interface Prepared {
  batch: JsMsg[];
  /** Counts folds: whose staged rows are whose in the cache. */
  number: number;
  /** The cache generation it was folded against; a failure since makes it stale. */
  epoch: number;
  /** Checkpoint before and after it (equal when the batch holds nothing new). */
  expected: number;
  highest: number;
  writes: Map<string, PendingWrite>;
  outcomes: CommandOutcome[];
  toPark: { msg: JsMsg; err: unknown }[];
  times: string[];
  traceIds: string[];
  /**
   * The batch's statements, built while folding (off the commit's critical path: the fold of the
   * next batch overlaps Postgres running this one, the JSON of this one does not wait for it).
   * Undefined when it need not reach Postgres: nothing written, recorded or parked, and the
   * checkpoint saved lately.
   */
  statements: string | undefined;
  started: number;
  /** Date.now() as the fold began. */
  startedAt: number;
}

/**
 * Folds events into `jsonb` views: batches from a durable pull consumer (ack-all), one Postgres
 * transaction per batch that locks the checkpoint (fenced on its previous value), then moves it
 * and writes the rows in one statement; acked after COMMIT (asynchronous: see start()); anything at or below the checkpoint is skipped on redelivery. Rows
 * come from a cache of what this instance wrote, and batch N+1 is folded while batch N commits.
 * Publishes a notice after each commit.
 */
export function buildAggregator(opts: AggregatorOptions): Aggregator {
  const { messaging, pool, projection, logger } = opts;
  const names = messaging.names;
  const schema = opts.schema ?? names.schema(projection.schema);
  const views = new ViewStore(schema, projection);
  const stream = names.stream('EVENTS');
  const durable = names.durable(opts.durable ?? `${projection.name}-aggregator`);
  const maxBatch = opts.maxBatch ?? 500;
  const maxWaitMs = opts.maxWaitMs ?? 5;
  const foldAhead = opts.foldAhead ?? 2;
  const maxAttempts = opts.maxAttempts ?? 3;
  /** Fold failures per stream sequence: how many, and the last error (parked with the event). */
  const failures = new Map<number, { count: number; last: unknown }>();
  const categoryFilters = projection.categories.map((c) => names.categoryEvents(c));
  const cache = new RowCache(opts.cacheRows ?? 5_000);
  const idleCheckpointMs = opts.idleCheckpointMs ?? 1_000;

  let messages: ConsumerMessages | undefined;
  /** The consumer is sent only the projection's categories, not every stream sequence. */
  let filtered = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let buffer: JsMsg[] = [];
  let timer: { immediate?: NodeJS.Immediate; timeout?: NodeJS.Timeout } | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /** The commit in flight (and those queued behind it), in batch order. */
  let committing: Promise<void> = Promise.resolve();
  /** Each queued batch's commit, oldest first. */
  let queued: Promise<void>[] = [];
  /** Highest stream sequence committed and acknowledged. */
  let position = 0;
  /** The checkpoint in Postgres as this instance last committed or read it. */
  let committedCheckpoint = 0;
  /** The checkpoint in Postgres once the commits in flight are done. */
  let plannedCheckpoint = 0;
  /** Highest sequence folded so far (committed, in flight, or ignored without a commit). */
  let folded = 0;
  let checkpointSavedAt = 0;
  /** Bumped on every failure: what was folded before it is folded again. */
  let epoch = 0;
  /**
   * Whether rows known to be new, and command outcomes, are inserted rather than upserted. Off
   * from a failure until the next commit: were a row there after all (views changed behind the
   * aggregator's back, a command id reused), the batch is folded again with upserts instead of
   * failing the same way for ever.
   */
  let insertFresh = true;
  let batchesFolded = 0;
  /** The epoch the last batch was folded in (-1: its fold failed). */
  let foldedEpoch = 0;
  let stopping = false;
  /** Set first thing in stop(): no new consumer is opened after it. */
  let halted = false;
  let leader: PoolClient | undefined;
  const lockKey = `devpie-aggregator:${schema}:${durable}`;

  function parseEvent(msg: JsMsg): { event: Envelope; category: Category } | { skip: true } {
    const { category } = names.parse(msg.subject);
    if (!projection.categories.includes(category)) return { skip: true };
    const raw = decode(msg.data);
    for (const set of projection.events) {
      if (set.category !== category) continue;
      return { event: set.parse(raw), category };
    }
    throw new UnknownMessageTypeError(String((raw as { type?: unknown })?.type));
  }

  /** The rows the events touch: from the cache, the rest in one query per table. */
  async function rowsFor(
    keys: RowKey[],
    at: number,
  ): Promise<{ rows: Map<string, Doc>; absent: Set<string> }> {
    const rows = new Map<string, Doc>();
    const absent = new Set<string>();
    const missing: RowKey[] = [];
    for (const k of keys) {
      const key = rowKey(k.table, k.id);
      const doc = cache.get(key);
      if (doc === undefined) missing.push(k);
      else if (doc !== null) rows.set(key, doc);
      else absent.add(key);
    }
    if (missing.length === 0) return { rows, absent };
    const loaded = await views.load(pool, missing);
    for (const k of missing) {
      const key = rowKey(k.table, k.id);
      const doc = loaded.get(key);
      if (doc) rows.set(key, doc);
      else absent.add(key);
      if (at === epoch) cache.set(key, doc ?? null);
    }
    return { rows, absent };
  }

  /** Folds a batch on top of what is committed or in flight; pure but for loading rows. */
  async function prepare(batch: JsMsg[]): Promise<Prepared> {
    const started = performance.now();
    const startedAt = Date.now();
    const at = epoch;
    const basis = folded;
    const toPark: Prepared['toPark'] = [];
    const fresh = batch.filter((m) => m.seq > basis);
    const events: { msg: JsMsg; seq: number; event: Envelope; category: Category }[] = [];
    for (const msg of fresh) {
      try {
        const parsed = parseEvent(msg);
        if ('event' in parsed)
          events.push({ msg, seq: msg.seq, event: parsed.event, category: parsed.category });
      } catch (err) {
        toPark.push({ msg, err });
      }
    }
    const { rows, absent } = await rowsFor(
      events.flatMap((e) => projection.touches(e.event)),
      at,
    );
    if (at !== epoch) throw new CheckpointMovedError(plannedCheckpoint);
    const writes = new Map<string, PendingWrite>();
    const children = new Map<string, PendingWrite>();
    const outcomes: CommandOutcome[] = [];
    // a command has one event, but a command id reused for another entity must not fail a fresh
    // insert within the batch: the first event's outcome is the one recorded, as ON CONFLICT would
    const outcomeOf = new Set<string>();
    const view = { get: (table: string, id: string) => rows.get(rowKey(table, id)) };
    for (const { msg, seq, event, category } of events) {
      const failed = failures.size > 0 ? failures.get(seq) : undefined;
      if (failed && failed.count >= maxAttempts) {
        toPark.push({ msg, err: new FoldError(seq, { cause: failed.last }) });
        continue;
      }
      let changes: { write: ViewWrite; children: ChildWrite[] }[];
      try {
        changes = projection.fold(view, event, seq).map((write) => {
          const split = views.splits.get(write.table);
          if (!split) return { write, children: [] };
          // its children are diffed against the document as it was: the fold must have read it
          const key = rowKey(write.table, write.id);
          if (!rows.has(key) && !absent.has(key)) {
            throw new Error(`${write.table} ${write.id} is written but not among the rows the event touches`);
          }
          return { write, children: childWrites(split, write.id, rows.get(key), write.doc) };
        });
      } catch (cause) {
        failures.set(seq, { count: (failures.get(seq)?.count ?? 0) + 1, last: cause });
        throw new FoldError(seq, { cause });
      }
      for (const { write: w, children: changed } of changes) {
        const key = rowKey(w.table, w.id);
        for (const c of changed) {
          const ck = rowKey(c.table, c.id);
          // new to the batch if the batch's first write of the row made it (a child is never
          // stored apart from its document, so a child the document lacked is not a row either)
          const fresh = children.get(ck)?.fresh ?? (insertFresh && c.created);
          children.set(ck, { table: c.table, id: c.id, doc: c.doc, version: seq, fresh });
        }
        // known to be absent when the batch first wrote it: inserted, not upserted
        const fresh = writes.get(key)?.fresh ?? (insertFresh && absent.has(key));
        if (w.doc === null) {
          rows.delete(key);
          absent.add(key);
        } else {
          rows.set(key, w.doc as Doc);
          absent.delete(key);
        }
        // not `{ ...w }`: spreading the folds' differently shaped writes was a third of this function's
        // own time in a replay's profile
        writes.set(key, { table: w.table, id: w.id, doc: w.doc, version: seq, fresh });
      }
      if (
        event.metadata.causationId &&
        isCommandId(event.metadata.causationId) &&
        projection.ownCategories.includes(category) &&
        !outcomeOf.has(event.metadata.causationId)
      ) {
        outcomeOf.add(event.metadata.causationId);
        const rejected = event.type === COMMAND_REJECTED ? (event.data as CommandRejected) : undefined;
        outcomes.push({
          commandId: event.metadata.causationId,
          status: rejected ? 'rejected' : 'accepted',
          type: rejected ? rejected.commandType : event.type,
          entity: msg.subject.slice(names.root.length),
          reason: rejected?.reason,
          message: rejected?.message,
          eventId: event.id,
          position: seq,
        });
      }
    }
    // the highest, not the last: a redelivery of an older message may end a batch
    const highest = Math.max(basis, highestOf(batch).seq);
    const expected = plannedCheckpoint;
    const commit =
      writes.size > 0 ||
      outcomes.length > 0 ||
      toPark.length > 0 ||
      (highest > expected && Date.now() - checkpointSavedAt > idleCheckpointMs);
    const statements = commit
      ? views.batchStatements(
          {
            name: durable,
            position: highest,
            writes: children.size > 0 ? new Map([...writes, ...children]) : writes,
            outcomes,
            freshOutcomes: insertFresh,
          },
          expected,
        )
      : undefined;
    // what the next batch folds on: this one's rows, as if committed (a failure clears them)
    const batchNumber = ++batchesFolded;
    for (const [key, w] of writes) cache.stage(key, w.doc === null ? null : (w.doc as Doc), batchNumber);
    folded = highest;
    if (commit) plannedCheckpoint = highest;
    return {
      batch,
      number: batchNumber,
      epoch: at,
      expected,
      highest,
      writes,
      outcomes,
      toPark,
      // only for the onBatch hook and debug logs
      times: opts.hooks?.onBatch ? events.map((e) => e.event.metadata.time) : [],
      traceIds: logger.isLevelEnabled('debug')
        ? [...new Set(events.map((e) => e.event.metadata.traceId))]
        : [],
      statements,
      started,
      startedAt,
    };
  }

  /** The batch in an explicit transaction, with the fault-injection hook between its writes and COMMIT. */
  function commitWithHook(statements: string, expected: number, seqs: number[]): Promise<FencedWrite> {
    return inTransaction(pool, async (client) => {
      const result = await views.writeStatements(client, statements);
      if (result.locked !== expected || !result.moved) throw new CheckpointMovedError(expected);
      await opts.hooks?.beforeCommit?.(seqs);
      return result;
    });
  }

  /** Parks what it must, commits the batch (fenced on the checkpoint) and acknowledges it. */
  async function commit(p: Prepared): Promise<void> {
    for (const { msg, err } of p.toPark) {
      await park(messaging, durable, msg, err);
      opts.hooks?.onParked?.(err instanceof Error ? err.name : 'Error');
      logger.error({ err, subject: msg.subject, seq: msg.seq }, 'event parked');
    }
    const seqs = opts.hooks?.beforeCommit || opts.hooks?.afterCommit ? p.batch.map((m) => m.seq) : [];
    if (p.statements !== undefined) {
      // fenced: the checkpoint must be where this instance left it (a replay's switch moves it).
      // Commits go one at a time on the leadership connection, idle between them: the statements
      // reach the socket at once, before the next batch's fold takes the thread (a pool checkout
      // is asynchronous: Postgres waited for that fold before it got the batch).
      const { locked, moved } = opts.hooks?.beforeCommit
        ? await commitWithHook(p.statements, p.expected, seqs)
        : await views.writeStatements(leader ?? pool, p.statements);
      if (locked !== p.expected || !moved) throw new CheckpointMovedError(p.expected);
      committedCheckpoint = p.highest;
      insertFresh = true;
      cache.committed(p.number, p.writes.keys());
      checkpointSavedAt = Date.now();
      await opts.hooks?.afterCommit?.(seqs);
    }
    highestOf(p.batch).ack(); // ack-all: acknowledges the whole batch
    if (failures.size > 0) for (const m of p.batch) failures.delete(m.seq);
    position = Math.max(position, p.highest);
    if (p.statements === undefined) return;
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ traceIds: p.traceIds, position, size: p.batch.length }, 'views committed');
    }
    if (opts.hooks?.onBatch) {
      const now = Date.now();
      const sent = p.times.map((t) => Date.parse(t));
      opts.hooks.onBatch({
        size: p.batch.length,
        ms: performance.now() - p.started,
        pending: p.batch[p.batch.length - 1]!.info.pending,
        commandToFoldMs: sent.map((t) => p.startedAt - t),
        commandToViewMs: sent.map((t) => now - t),
      });
    }
    const notice: Notice = {
      aggregator: projection.name,
      schema,
      position: p.highest,
      changes: [...p.writes.values()].map((w) => ({
        table: w.table,
        id: w.id,
        version: w.version,
        deleted: w.doc === null,
      })),
      commands: p.outcomes.map((o) => ({
        commandId: o.commandId,
        status: o.status,
        reason: o.reason,
        position: o.position,
      })),
    };
    if (opts.notices !== false) messaging.nc.publish(names.notice(projection.name), JSON.stringify(notice));
  }

  /** After a failure: forget the cache and anything folded on it, and read the checkpoint again. */
  async function reset(): Promise<void> {
    epoch++;
    insertFresh = false;
    cache.clear();
    folded = plannedCheckpoint = committedCheckpoint;
    const at = epoch;
    const committed = await views.checkpoint(pool, durable);
    if (at === epoch) folded = plannedCheckpoint = committedCheckpoint = committed;
  }

  /** Commits one batch, folding it again after a failure (its own or an earlier batch's), until it lands. */
  async function commitInOrder(batch: JsMsg[], prepared: Promise<Prepared>): Promise<void> {
    let next: Promise<Prepared> = prepared;
    for (let attempt = 1; ; attempt++) {
      try {
        let p = await next;
        if (p.epoch !== epoch) p = await prepare(batch);
        await commit(p);
        return;
      } catch (err) {
        if (stopping) throw err;
        const moved = err instanceof CheckpointMovedError;
        // only an insert of a row or outcome taken for new can break a unique key: upserts can't
        const existed = (err as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
        if (moved) logger.info({ err }, 'checkpoint moved; folding again from it');
        else if (existed)
          logger.info({ err }, 'a row or outcome taken for new was there; folding again with upserts');
        else
          logger.warn({ err, attempt, first: batch[0]!.seq, size: batch.length }, 'batch failed; retrying');
        await reset().catch((e: unknown) => logger.warn({ err: e }, 'checkpoint not read'));
        if (!moved && !existed) await new Promise((r) => setTimeout(r, backoffMs(attempt)));
        next = prepare(batch);
      }
    }
  }

  /** Folds the buffer and queues its commit; resolves once it is folded and the commit before it is done. */
  async function flush(): Promise<void> {
    if (timer?.immediate) clearImmediate(timer.immediate);
    if (timer?.timeout) clearTimeout(timer.timeout);
    timer = undefined;
    const batch = buffer;
    buffer = [];
    if (batch.length === 0) return;
    // batches are folded in order on top of each other: after a failure, the ones queued before
    // this one are folded again (and committed) first
    if (foldedEpoch !== epoch) await committing;
    const prepared = prepare(batch);
    const folding = prepared.then(
      (p) => void (foldedEpoch = p.epoch),
      () => void (foldedEpoch = -1), // handled in commitInOrder
    );
    committing = committing.then(() => commitInOrder(batch, prepared));
    queued.push(committing);
    // the next batch is folded on this one's rows: not before this fold is done; and no more
    // than `foldAhead` batches wait for their commit behind the one committing
    const oldest = queued.length > foldAhead ? queued.shift() : undefined;
    await Promise.all([oldest, folding]);
  }

  /**
   * A full buffer is folded at once (and the loop waits for it). Otherwise the flush is scheduled:
   * right after the messages the client already holds have been taken (the server has none
   * pending), or after `maxWaitMs` (more are on their way); a flush queued behind a commit takes
   * whatever has arrived by the time it runs.
   */
  function enqueue(msg: JsMsg): Promise<void> | undefined {
    buffer.push(msg);
    if (buffer.length >= maxBatch) {
      flushing = flushing.then(flush);
      return flushing;
    }
    if (!timer) {
      const scheduled = () => {
        timer = undefined;
        flushing = flushing.then(flush);
      };
      timer =
        msg.info.pending === 0
          ? { immediate: setImmediate(scheduled) }
          : { timeout: setTimeout(scheduled, maxWaitMs) };
    }
    return undefined;
  }

  /**
   * A filtered consumer is sent none of the other categories' events, so no batch moves the
   * checkpoint past them. The end of EVENTS is read first, then the consumer: with nothing left to
   * send, every event of the projection's categories up to that end has been delivered; with
   * nothing unacknowledged, each was committed. The checkpoint then moves to the end, as the
   * skipped events would have moved it (`npx devpie status` shows no lag, a rebuild sees the live
   * views caught up).
   */
  async function checkpointToEnd(): Promise<void> {
    if (!filtered || halted || messages === undefined || buffer.length > 0 || folded !== position) return;
    const end = (await messaging.jsm.streams.info(stream)).state.last_seq;
    if (end <= folded) return;
    const consumer = await messaging.jsm.consumers.info(stream, durable);
    if (consumer.num_pending > 0 || consumer.num_ack_pending > 0) return;
    flushing = flushing.then(() => moveCheckpointTo(end));
    await flushing;
  }

  /** Commits the checkpoint alone at `to`, after the batches folded before it. */
  function moveCheckpointTo(to: number): void {
    if (to <= folded || halted) return;
    const at = epoch;
    const expected = plannedCheckpoint;
    folded = plannedCheckpoint = to;
    committing = committing.then(async () => {
      if (at !== epoch) return; // folded again from the checkpoint since: a later round moves it
      try {
        const batch = { name: durable, position: to, writes: new Map(), outcomes: [] };
        const { locked, moved } = await views.writeBatch(leader ?? pool, batch, expected);
        if (locked !== expected || !moved) throw new CheckpointMovedError(expected);
        committedCheckpoint = to;
        checkpointSavedAt = Date.now();
        position = Math.max(position, to);
      } catch (err) {
        if (stopping) return;
        logger.warn(
          { err, to },
          'checkpoint not moved to the end of EVENTS; folding again from the last one',
        );
        await reset().catch((e: unknown) => logger.warn({ err: e }, 'checkpoint not read'));
      }
    });
  }

  /** Recreates the durable at the position committed in Postgres and consumes from there. */
  async function consumeFromCheckpoint(): Promise<ConsumerMessages> {
    const committed = await views.checkpoint(pool, durable);
    // whatever was cached or folded before may be older than the views now are
    epoch++;
    cache.clear();
    // views built from the start (a new aggregator, a rebuild): a row it has not written is absent
    if (committed === 0 && (await views.isEmpty(pool))) cache.knowsEveryRow();
    position = folded = plannedCheckpoint = committedCheckpoint = committed;
    // nats-server 2.9 filters a consumer on one subject: a projection of several categories is
    // then sent the whole stream, and skips what it does not fold
    filtered = categoryFilters.length === 1 || takesFilterSubjects(messaging.nc.info?.version);
    await resetDurable(messaging, {
      stream,
      durable,
      filter: filtered ? categoryFilters : names.allEvents(),
      ackPolicy: AckPolicy.All,
      // unacknowledged at most: the client's pull (4 batches), the buffer, the folds waiting to
      // commit and the commit in flight; with room to spare, delivery never stops for acks
      maxAckPending: maxBatch * (8 + foldAhead),
      ackWaitMs: opts.ackWaitMs,
      startSeq: committed + 1,
    });
    const consumer = await messaging.js.consumers.get(stream, durable);
    messages = await consumer.consume({ max_messages: maxBatch * 4, expires: PULL_EXPIRES_MS });
    return messages;
  }

  /**
   * Folds what the consumer delivers, in order. Deliveries are numbered by the consumer; a jump
   * means the server delivered messages this instance never received (lost in flight when NATS
   * restarted or the connection dropped). They would come back only after their ack wait, behind
   * newer events, and acknowledging a newer one (ack-all) would acknowledge them unfolded: so what
   * came before the gap is committed and the consumer starts again from the checkpoint. The same
   * happens when the consumer fails.
   */
  async function run(first: ConsumerMessages): Promise<void> {
    for (let iterator = first; ;) {
      let received = 0;
      let gap = false;
      try {
        for await (const msg of iterator) {
          const delivery = msg.info.deliverySequence;
          if (delivery > received + 1) {
            logger.warn(
              { expected: received + 1, delivered: delivery },
              'deliveries lost in flight; resuming from the checkpoint',
            );
            gap = true;
            break;
          }
          received = delivery;
          const pending = enqueue(msg);
          if (pending) await pending; // back-pressure: one batch folding, one committing
        }
      } catch (err) {
        if (halted) return;
        logger.warn({ err }, 'consumer failed; resuming from the checkpoint');
        gap = true;
      }
      if (!gap || halted) return;
      iterator.stop();
      messages = undefined; // not consuming (readiness) until recreated at the checkpoint
      flushing = flushing.then(flush);
      await flushing;
      await committing;
      // deliveries are lost in flight when a server goes away, and then JetStream may be
      // electing leaders and Postgres restarting
      const next = await reopenUntilStopped(
        consumeFromCheckpoint,
        () => halted,
        (err, attempt) => logger.warn({ err, attempt }, 'consumer not recreated at the checkpoint; retrying'),
      );
      if (!next) return;
      iterator = next;
    }
  }

  return {
    views,
    durable,
    get position() {
      return position;
    },
    get bound() {
      return messages !== undefined;
    },
    async start() {
      stopping = false;
      await views.migrate(pool);
      // one active instance per view: the others wait here as standbys until the lock is free
      leader = await pool.connect();
      leader.on('error', onLeaderError);
      try {
        await leader.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
        // Batches commit without waiting for the WAL flush (~1 ms here, more under load: p99 command
        // → view at 1,000/s fell from 105–200 to 55–87 ms in the bench). Views are derived: a crash
        // that loses the last commits loses the checkpoint with them, and it ends every connection,
        // this one too, so no commit lands on top of them; the instance stops and starts again from
        // the checkpoint Postgres kept, folding those events again (EVENTS still holds them, acked or not).
        await leader.query('SET synchronous_commit = off');
        halted = false;
        const iterator = await consumeFromCheckpoint();
        loop = run(iterator).catch((err: unknown) => logger.error({ err }, 'event loop ended'));
        let checking = false;
        idleTimer = setInterval(() => {
          if (checking) return;
          checking = true;
          checkpointToEnd()
            .catch((err: unknown) => logger.debug({ err }, 'end of EVENTS not read'))
            .finally(() => (checking = false));
        }, idleCheckpointMs).unref();
      } catch (err) {
        // JetStream not answering, say: a start that failed holds no lock, for a standby or a retry
        await resign();
        throw err;
      }
    },
    async stop() {
      halted = true;
      clearInterval(idleTimer);
      messages?.stop();
      await loop;
      flushing = flushing.then(flush);
      stopping = true;
      await flushing
        .then(() => committing)
        .catch((err: unknown) => logger.warn({ err }, 'last batch not committed; it will be redelivered'));
      committing = Promise.resolve();
      queued = [];
      messages = undefined;
      await resign();
    },
  };

  function onLeaderError(err: Error): void {
    logger.error({ err }, 'leadership connection lost; folding stops');
    messages?.stop();
    opts.hooks?.onFatal?.(err);
  }

  /** Gives up the leadership lock and its connection (closed, with the lock, if the unlock fails). */
  async function resign(): Promise<void> {
    const connection = leader;
    leader = undefined;
    if (!connection) return;
    const failure = await connection.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    connection.release(failure);
    // back in the pool (which listens to it from now on) it is no longer this instance's leadership;
    // one released broken is being closed, and keeps the listener through that
    if (!failure) connection.off('error', onLeaderError);
  }
}
