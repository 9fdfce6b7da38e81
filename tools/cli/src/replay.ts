import { JetStreamApiError } from '@nats-io/jetstream';
import {
  buildAggregator,
  discardParked,
  ident,
  listParked,
  type Aggregator,
  type Logger,
  type Messaging,
  type Notice,
  type Pool,
  type PoolClient,
  type Projection,
} from '@devpie/client-events';

export interface ReplayProgress {
  phase: 'folding' | 'switching';
  /** Highest EVENTS sequence the rebuild has committed. */
  position: number;
  /** EVENTS' last sequence now. */
  lastSeq: number;
  /** Events still to deliver to the rebuild (its consumer's count, filter applied). */
  remaining: number;
  /** Events folded (stream sequences covered) per second over the last interval. */
  rate: number;
  /** Seconds to go at that rate, when it is known. */
  eta?: number;
}

export interface ReplayOptions {
  messaging: Messaging;
  pool: Pool;
  projection: Projection;
  logger: Logger;
  /** Suffix of the new schema and durable; a UTC timestamp (YYYYMMDDHHMMSS) by default. */
  tag?: string;
  /** Drop the previous live schema after the switch (default: keep it as `<schema>_old_<tag>`). */
  dropOld?: boolean;
  maxBatch?: number;
  onProgress?(p: ReplayProgress): void;
  progressEveryMs?: number;
  /** Longest the live aggregator is held while the rebuild folds its last events. */
  holdMs?: number;
  /** Aborting stops the rebuild and removes its schema and durable (the live views are untouched). */
  signal?: AbortSignal;
}

export interface ReplayResult {
  /** The schema the apps read, now holding the rebuilt views. */
  schema: string;
  /** What the previous live views were renamed to (undefined for a brand-new aggregator). */
  oldSchema?: string;
  droppedOld: boolean;
  /** Position of the rebuilt views at the switch. */
  position: number;
  /** Position of the previous live views at the switch (0 if there were none). */
  livePosition: number;
  seconds: number;
  /** Switch attempts (a retry when the live aggregator was ahead and the rebuild did not catch up in time). */
  attempts: number;
  /** Parked copies of events the live aggregator had skipped that the rebuild folded, discarded. */
  resolvedParked: number[];
  /** EVENTS sequences the rebuild itself could not fold (parked under its own durable). */
  parkedByRebuild: number[];
}

export class ReplayAborted extends Error {
  constructor() {
    super('replay aborted; the live views are unchanged');
    this.name = 'ReplayAborted';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A UTC timestamp, YYYYMMDDHHMMSS: schema suffixes that sort by time. */
export const timestampTag = (d = new Date()): string => d.toISOString().replace(/\D/g, '').slice(0, 14);

async function schemaExists(client: PoolClient | Pool, schema: string): Promise<boolean> {
  const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length > 0;
}

/**
 * Rebuilds an aggregator's views from the start of EVENTS into a new schema `<schema>_r<tag>` with
 * a fresh durable while the live aggregator keeps serving, then switches the apps to them in one
 * Postgres transaction:
 *
 * 1. lock the live checkpoint row (`SELECT … FOR UPDATE`): waits for the live aggregator's batch in
 *    flight and holds its next one (it takes the same row lock first thing in every batch);
 * 2. let the rebuild fold up to at least the live position, then stop it (else roll back and retry);
 * 3. move the live checkpoint row, in both schemas, to the rebuild's position: the live process,
 *    whose consumer goes on, skips what the new views already contain — whether its next batch
 *    resolves the table by name after the rename or was already waiting on the old row;
 * 4. rename live → `<schema>_old_<tag>` and new → live; COMMIT.
 *
 * Without a live schema (a brand-new aggregator) the rebuild is simply renamed into place with the
 * live durable's checkpoint, so the aggregator starts where the rebuild stopped.
 */
export async function replayAggregator(opts: ReplayOptions): Promise<ReplayResult> {
  const { messaging, pool, projection, logger } = opts;
  const names = messaging.names;
  const started = Date.now();
  const tag = opts.tag ?? timestampTag();
  const liveSchema = names.schema(projection.schema);
  const liveDurable = names.durable(`${projection.name}-aggregator`);
  const newSchema = `${liveSchema}_r${tag}`;
  const oldSchema = `${liveSchema}_old_${tag}`;
  if (oldSchema.length > 63) throw new Error(`schema name ${oldSchema} is longer than Postgres allows`);
  const stream = names.stream('EVENTS');
  const holdMs = opts.holdMs ?? 10_000;

  const replay: Aggregator = buildAggregator({
    messaging,
    pool,
    projection,
    logger,
    schema: newSchema,
    durable: `${projection.name}-aggregator-r${tag}`,
    maxBatch: opts.maxBatch ?? 1000,
    notices: false,
  });
  const replayDurable = replay.durable;
  let running = false;
  const startReplay = async () => {
    await replay.start();
    running = true;
  };
  const stopReplay = async () => {
    if (running) await replay.stop();
    running = false;
  };
  const committedPosition = async () => {
    const { rows } = await pool.query<{ position: string }>(
      `SELECT position FROM ${ident(newSchema)}.checkpoints WHERE name = $1`,
      [replayDurable],
    );
    return Number(rows[0]?.position ?? 0);
  };
  const deleteDurable = () =>
    messaging.jsm.consumers.delete(stream, replayDurable).catch((err: unknown) => {
      if (!(err instanceof JetStreamApiError && err.status === 404)) throw err;
    });
  const abandon = async () => {
    await stopReplay().catch(() => undefined);
    await deleteDurable().catch(() => undefined);
    await pool.query(`DROP SCHEMA IF EXISTS ${ident(newSchema)} CASCADE`).catch(() => undefined);
  };
  const checkAbort = async () => {
    if (opts.signal?.aborted) {
      await abandon();
      throw new ReplayAborted();
    }
  };

  await startReplay();
  let lastPosition = 0;
  let lastAt = Date.now();
  let rate = 0;
  let attempts = 0;
  const progress = async (phase: ReplayProgress['phase']) => {
    const [info, consumer] = await Promise.all([
      messaging.jsm.streams.info(stream),
      messaging.jsm.consumers.info(stream, replayDurable).catch(() => undefined),
    ]);
    const now = Date.now();
    const position = replay.position;
    if (now > lastAt) {
      const instant = ((position - lastPosition) * 1000) / (now - lastAt);
      rate = rate === 0 ? instant : 0.7 * rate + 0.3 * instant;
    }
    lastPosition = position;
    lastAt = now;
    const remaining = consumer ? consumer.num_pending + consumer.num_ack_pending : 0;
    const p: ReplayProgress = {
      phase,
      position,
      lastSeq: info.state.last_seq,
      remaining,
      rate,
      eta: rate > 0 ? remaining / rate : undefined,
    };
    opts.onProgress?.(p);
    return p;
  };

  try {
    for (;;) {
      await checkAbort();
      await sleep(opts.progressEveryMs ?? 250);
      const p = await progress('folding');
      // caught up: what is left fits in a batch or two
      if (p.remaining > (opts.maxBatch ?? 1000) * 2) continue;

      attempts++;
      const client = await pool.connect();
      let committed = false;
      try {
        await client.query('BEGIN');
        // the live views' migration lock: no live aggregator creates the schema under us
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [liveSchema]);
        const hasLive = await schemaExists(client, liveSchema);
        let livePosition = 0;
        if (hasLive) {
          await client.query(
            `INSERT INTO ${ident(liveSchema)}.checkpoints (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`,
            [liveDurable],
          );
          const { rows } = await client.query<{ position: string }>(
            `SELECT position FROM ${ident(liveSchema)}.checkpoints WHERE name = $1 FOR UPDATE`,
            [liveDurable],
          );
          livePosition = Number(rows[0]!.position);
        }
        // the live aggregator is held now; the rebuild folds the rest of what it has folded
        await progress('switching');
        const deadline = Date.now() + holdMs;
        while (replay.position < livePosition && Date.now() < deadline) await sleep(10);
        if (replay.position < livePosition) {
          logger.info({ livePosition, position: replay.position }, 'rebuild behind the live views; retrying');
          await client.query('ROLLBACK');
          continue;
        }
        await stopReplay();
        const position = await committedPosition();
        if (position < livePosition) {
          await client.query('ROLLBACK');
          await startReplay();
          continue;
        }
        if (hasLive) {
          await client.query(
            `UPDATE ${ident(liveSchema)}.checkpoints SET position = GREATEST(position, $2), updated_at = now() WHERE name = $1`,
            [liveDurable, position],
          );
        }
        await client.query(
          `INSERT INTO ${ident(newSchema)}.checkpoints (name, position) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
          [liveDurable, position],
        );
        await client.query(`DELETE FROM ${ident(newSchema)}.checkpoints WHERE name = $1`, [replayDurable]);
        if (hasLive) await client.query(`ALTER SCHEMA ${ident(liveSchema)} RENAME TO ${ident(oldSchema)}`);
        await client.query(`ALTER SCHEMA ${ident(newSchema)} RENAME TO ${ident(liveSchema)}`);
        await client.query('COMMIT');
        committed = true;

        await deleteDurable();
        if (hasLive && position > livePosition) {
          await announce(messaging, pool, projection, liveSchema, livePosition, position).catch(
            (err: unknown) => logger.warn({ err }, 'notice of the rebuilt range not published'),
          );
        }
        const { resolved, stillFailing } = await settleParked(
          messaging,
          liveDurable,
          replayDurable,
          position,
        );
        let droppedOld = false;
        if (hasLive && opts.dropOld) {
          await pool.query(`DROP SCHEMA ${ident(oldSchema)} CASCADE`);
          droppedOld = true;
        }
        return {
          schema: liveSchema,
          oldSchema: hasLive ? oldSchema : undefined,
          droppedOld,
          position,
          livePosition,
          seconds: (Date.now() - started) / 1000,
          attempts,
          resolvedParked: resolved,
          parkedByRebuild: stillFailing,
        };
      } finally {
        if (!committed) await client.query('ROLLBACK').catch(() => undefined);
        client.release();
      }
    }
  } catch (err) {
    if (!(err instanceof ReplayAborted)) await abandon();
    throw err;
  }
}

/**
 * The live aggregator skips the events the rebuild folded beyond its own position, so it never
 * announces them: apps waiting for those commands' outcomes (`Prefer: wait`) and live streams would
 * hear nothing. The switch publishes that notice in its place, from what the new views recorded.
 */
async function announce(
  messaging: Messaging,
  pool: Pool,
  projection: Projection,
  schema: string,
  from: number,
  to: number,
): Promise<void> {
  const { rows: commands } = await pool.query<{
    command_id: string;
    status: 'accepted' | 'rejected';
    reason: string | null;
    position: string;
  }>(
    `SELECT command_id, status, reason, position FROM ${ident(schema)}.command_outcomes
     WHERE position > $1 AND position <= $2 ORDER BY position`,
    [from, to],
  );
  const changes: Notice['changes'] = [];
  for (const t of projection.tables) {
    const { rows } = await pool.query<{ id: string; version: string }>(
      `SELECT id, version FROM ${ident(schema)}.${ident(t.name)} WHERE version > $1 AND version <= $2`,
      [from, to],
    );
    for (const r of rows)
      changes.push({ table: t.name, id: r.id, version: Number(r.version), deleted: false });
  }
  const notice: Notice = {
    aggregator: projection.name,
    schema,
    position: to,
    changes,
    commands: commands.map((c) => ({
      commandId: c.command_id,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      position: Number(c.position),
    })),
  };
  messaging.nc.publish(messaging.names.notice(projection.name), JSON.stringify(notice));
  await messaging.nc.flush();
}

/**
 * After a switch: the events the live aggregator had parked and the rebuild folded are in the new
 * views, so their parked copies are discarded; the rebuild's own parked copies (events it could
 * not fold either) are reported, and kept only where the live aggregator has no copy of the same
 * event (so each failing event stays parked once, under the live durable when possible).
 */
async function settleParked(
  messaging: Messaging,
  liveDurable: string,
  replayDurable: string,
  position: number,
) {
  const all = await listParked(messaging).catch(() => []);
  const byRebuild = all.filter((p) => p.consumer === replayDurable);
  const failing = new Set(byRebuild.map((p) => p.originalSeq));
  const live = all.filter((p) => p.consumer === liveDurable);
  const resolved: number[] = [];
  for (const p of live) {
    if (p.originalSeq <= position && !failing.has(p.originalSeq)) {
      await discardParked(messaging, p.seq);
      resolved.push(p.seq);
    }
  }
  const liveSeqs = new Set(live.map((p) => p.originalSeq));
  for (const p of byRebuild) if (liveSeqs.has(p.originalSeq)) await discardParked(messaging, p.seq);
  return { resolved, stillFailing: [...failing].sort((a, b) => a - b) };
}

/** `devpie replay drop-old <schema>`: removes a previous version kept after a switch. */
export async function dropOldSchema(pool: Pool, messaging: Messaging, schema: string): Promise<void> {
  const names = messaging.names;
  const ns = names.namespace ? `${names.namespace}_` : '';
  if (!/_old_\d{14}$/.test(schema) || !schema.startsWith(ns)) {
    throw new Error(`${schema} is not an old aggregator schema of this namespace (<schema>_old_<timestamp>)`);
  }
  if (!(await schemaExists(pool, schema))) throw new Error(`schema ${schema} does not exist`);
  await pool.query(`DROP SCHEMA ${ident(schema)} CASCADE`);
}
