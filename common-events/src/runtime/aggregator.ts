import { AckPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Pool, PoolClient } from 'pg';
import type { Envelope } from '../envelope';
import { UnknownMessageTypeError } from '../errors';
import type { Category } from '../names';
import { decode } from '../registry';
import { COMMAND_REJECTED, type CommandRejected } from '../rejections';
import { backoffMs, resetDurable, PULL_EXPIRES_MS } from './durable';
import type { Logger } from './logger';
import type { Messaging } from './messaging';
import type { Notice } from './notices';
import { park } from './parking';
import { inTransaction } from './postgres';
import type { Doc, Projection, ViewWrite } from './projection';
import { rowKey, ViewStore, type CommandOutcome } from './view-store';

export interface AggregatorHooks {
  /** After each commit: batch size, its duration, the consumer's pending count, and per event the ms since its command was sent. */
  onBatch?(info: { size: number; ms: number; pending: number; commandToViewMs: number[] }): void;
  onParked?(reason: string): void;
  /** The leadership lock's Postgres connection broke: this instance stopped folding. */
  onFatal?(err: unknown): void;
  /** Fault injection for tests: runs inside the transaction before COMMIT, and after COMMIT before the ack. */
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
  /** Attempts at folding one event before it is parked. */
  maxAttempts?: number;
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
  /** Highest stream sequence committed so far. */
  readonly position: number;
  readonly bound: boolean;
}

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

/**
 * Folds events into `jsonb` views: batches from a durable pull consumer (ack-all), one Postgres
 * transaction per batch that also moves the checkpoint; acked after COMMIT; anything at or below
 * the checkpoint is skipped on redelivery. Publishes a notice after each commit.
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
  const maxAttempts = opts.maxAttempts ?? 3;
  /** Fold failures per stream sequence: how many, and the last error (parked with the event). */
  const failures = new Map<number, { count: number; last: unknown }>();
  const filter =
    projection.categories.length === 1 ? names.categoryEvents(projection.categories[0]!) : names.allEvents();

  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;
  let buffer: JsMsg[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let position = 0;
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

  /** One transaction for the batch; returns what changed for the notice. */
  async function foldBatch(batch: JsMsg[]) {
    const toPark: { msg: JsMsg; err: unknown }[] = [];
    return inTransaction(pool, async (client) => {
      const applied = await views.checkpoint(client, durable);
      const fresh = batch.filter((m) => m.seq > applied);
      const events: { msg: JsMsg; event: Envelope; category: Category }[] = [];
      for (const msg of fresh) {
        try {
          const parsed = parseEvent(msg);
          if ('event' in parsed) events.push({ msg, ...parsed });
        } catch (err) {
          toPark.push({ msg, err });
        }
      }
      const rows = await views.load(
        client,
        events.flatMap((e) => projection.touches(e.event)),
      );
      const writes = new Map<string, ViewWrite & { version: number }>();
      const outcomes: CommandOutcome[] = [];
      const view = { get: (table: string, id: string) => rows.get(rowKey(table, id)) };
      for (const { msg, event, category } of events) {
        const failed = failures.get(msg.seq);
        if (failed && failed.count >= maxAttempts) {
          toPark.push({ msg, err: new FoldError(msg.seq, { cause: failed.last }) });
          continue;
        }
        let changes: ViewWrite[];
        try {
          changes = projection.fold(view, event, msg.seq);
        } catch (cause) {
          failures.set(msg.seq, { count: (failures.get(msg.seq)?.count ?? 0) + 1, last: cause });
          throw new FoldError(msg.seq, { cause });
        }
        for (const w of changes) {
          const key = rowKey(w.table, w.id);
          if (w.doc === null) rows.delete(key);
          else rows.set(key, w.doc as Doc);
          writes.set(key, { ...w, version: msg.seq });
        }
        if (event.metadata.causationId && projection.ownCategories.includes(category)) {
          const rejected = event.type === COMMAND_REJECTED ? (event.data as CommandRejected) : undefined;
          outcomes.push({
            commandId: event.metadata.causationId,
            status: rejected ? 'rejected' : 'accepted',
            type: rejected ? rejected.commandType : event.type,
            entity: msg.subject.slice(names.root.length),
            reason: rejected?.reason,
            message: rejected?.message,
            eventId: event.id,
            position: msg.seq,
          });
        }
      }
      for (const { msg, err } of toPark) {
        await park(messaging, durable, msg, err);
        opts.hooks?.onParked?.(err instanceof Error ? err.name : 'Error');
        logger.error({ err, subject: msg.subject, seq: msg.seq }, 'event parked');
      }
      await views.write(client, writes);
      await views.recordOutcomes(client, outcomes);
      // the highest, not the last: a redelivery of an older message may end a batch
      const last = highestOf(batch).seq;
      if (last > applied) await views.saveCheckpoint(client, durable, last);
      await opts.hooks?.beforeCommit?.(batch.map((m) => m.seq));
      return {
        position: Math.max(last, applied),
        changes: [...writes.values()].map((w) => ({
          table: w.table,
          id: w.id,
          version: w.version,
          deleted: w.doc === null,
        })),
        times: events.map((e) => e.event.metadata.time),
        traceIds: [...new Set(events.map((e) => e.event.metadata.traceId))],
        commands: outcomes.map((o) => ({
          commandId: o.commandId,
          status: o.status,
          reason: o.reason,
          position: o.position,
        })),
      };
    });
  }

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = buffer;
    buffer = [];
    if (batch.length === 0) return;
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await foldBatch(batch);
        await opts.hooks?.afterCommit?.(batch.map((m) => m.seq));
        highestOf(batch).ack(); // ack-all: acknowledges the whole batch
        for (const m of batch) failures.delete(m.seq);
        position = result.position;
        if (logger.isLevelEnabled('debug')) {
          logger.debug({ traceIds: result.traceIds, position, size: batch.length }, 'views committed');
        }
        const now = Date.now();
        opts.hooks?.onBatch?.({
          size: batch.length,
          ms: performance.now() - started,
          pending: batch[batch.length - 1]!.info.pending,
          commandToViewMs: result.times.map((t) => now - Date.parse(t)),
        });
        const notice: Notice = {
          aggregator: projection.name,
          schema,
          position: result.position,
          changes: result.changes,
          commands: result.commands,
        };
        if (opts.notices !== false)
          messaging.nc.publish(names.notice(projection.name), JSON.stringify(notice));
        return;
      } catch (err) {
        if (stopping) throw err;
        logger.warn({ err, attempt, first: batch[0]!.seq, size: batch.length }, 'batch failed; retrying');
        await new Promise((r) => setTimeout(r, backoffMs(attempt)));
      }
    }
  }

  function enqueue(msg: JsMsg): Promise<void> | undefined {
    buffer.push(msg);
    if (buffer.length >= maxBatch || msg.info.pending === 0) {
      flushing = flushing.then(flush);
      return flushing;
    }
    timer ??= setTimeout(() => {
      flushing = flushing.then(flush);
    }, maxWaitMs);
    return undefined;
  }

  /** Recreates the durable at the position committed in Postgres and consumes from there. */
  async function consumeFromCheckpoint(): Promise<ConsumerMessages> {
    const committed = await inTransaction(pool, (client) => views.checkpoint(client, durable));
    position = committed;
    await resetDurable(messaging, {
      stream,
      durable,
      filter,
      ackPolicy: AckPolicy.All,
      maxAckPending: maxBatch * 4,
      ackWaitMs: opts.ackWaitMs,
      startSeq: committed + 1,
    });
    const consumer = await messaging.js.consumers.get(stream, durable);
    messages = await consumer.consume({ max_messages: maxBatch * 2, expires: PULL_EXPIRES_MS });
    return messages;
  }

  /**
   * Folds what the consumer delivers, in order. Deliveries are numbered by the consumer; a jump
   * means the server delivered messages this instance never received (lost in flight when NATS
   * restarted or the connection dropped). They would come back only after their ack wait, behind
   * newer events, and acknowledging a newer one (ack-all) would acknowledge them unfolded: so what
   * came before the gap is committed and the consumer starts again from the checkpoint.
   */
  async function run(first: ConsumerMessages): Promise<void> {
    for (let iterator = first; ;) {
      let received = 0;
      let gap = false;
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
        if (pending) await pending; // back-pressure: one batch in flight
      }
      if (!gap || halted) return;
      iterator.stop();
      flushing = flushing.then(flush);
      await flushing;
      if (halted) return;
      iterator = await consumeFromCheckpoint();
      if (halted) {
        iterator.stop();
        return;
      }
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
      leader.on('error', (err) => {
        logger.error({ err }, 'leadership connection lost; folding stops');
        messages?.stop();
        opts.hooks?.onFatal?.(err);
      });
      await leader.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
      halted = false;
      const iterator = await consumeFromCheckpoint();
      loop = run(iterator).catch((err: unknown) => logger.error({ err }, 'event loop ended'));
    },
    async stop() {
      halted = true;
      messages?.stop();
      await loop;
      flushing = flushing.then(flush);
      stopping = true;
      await flushing.catch((err: unknown) =>
        logger.warn({ err }, 'last batch not committed; it will be redelivered'),
      );
      messages = undefined;
      if (leader) {
        await leader.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
        leader.release();
        leader = undefined;
      }
    },
  };
}
