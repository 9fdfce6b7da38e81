import type { Pool, PoolClient } from 'pg';
import type { Doc, Projection, RowKey, ViewWrite } from './projection';
import { ident } from './postgres';

export interface CommandOutcome {
  commandId: string;
  status: 'accepted' | 'rejected';
  type: string;
  entity: string;
  position: number;
  reason?: string;
  message?: string;
  eventId: string;
}

/** The SQL side of an aggregator's views in one schema: DDL, batched loads, batched writes. */
export class ViewStore {
  constructor(
    readonly schema: string,
    private readonly projection: Projection,
  ) {}

  table(name: string): string {
    return `${ident(this.schema)}.${ident(name)}`;
  }

  async migrate(pool: Pool): Promise<void> {
    const s = ident(this.schema);
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS ${s}`,
      `CREATE TABLE IF NOT EXISTS ${s}.checkpoints (name text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE IF NOT EXISTS ${s}.command_outcomes (command_id uuid PRIMARY KEY, status text NOT NULL, type text NOT NULL, entity text NOT NULL, reason text, message text, event_id uuid NOT NULL, position bigint NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`,
    ];
    for (const t of this.projection.tables) {
      const table = this.table(t.name);
      statements.push(
        `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, doc jsonb NOT NULL, version bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (const c of t.columns ?? []) {
        statements.push(
          `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${ident(c.column)} ${c.type ?? 'text'} GENERATED ALWAYS AS (${c.expression}) STORED`,
          `CREATE INDEX IF NOT EXISTS ${ident(`${t.name}_${c.column}_idx`)} ON ${table} (${ident(c.column)})`,
        );
      }
    }
    const client = await pool.connect();
    try {
      // one migrator at a time per schema, even with several replicas starting together
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [this.schema]);
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.schema]).catch(() => undefined);
      client.release();
    }
  }

  /** The last applied stream sequence (the row is created at 0 the first time). */
  async checkpoint(client: Pool | PoolClient, name: string): Promise<number> {
    const { rows } = await client.query<{ position: string }>(
      `WITH created AS (
         INSERT INTO ${ident(this.schema)}.checkpoints (name, position) VALUES ($1, 0)
         ON CONFLICT (name) DO NOTHING RETURNING position
       )
       SELECT position FROM created UNION ALL SELECT position FROM ${ident(this.schema)}.checkpoints WHERE name = $1`,
      [name],
    );
    return Number(rows[0]!.position);
  }

  /**
   * Locks the checkpoint row for the batch's transaction and returns it (-1: no row). The lock is
   * the batch's first statement, so that a replay's switch (which holds it while it renames the
   * schemas) is waited for before the batch's writes are parsed: they then name the views the
   * switch put in place, and the position read tells whether the switch moved the checkpoint.
   */
  async lockCheckpoint(client: PoolClient, name: string): Promise<number> {
    const { rows } = await client.query<{ position: string }>(
      `SELECT position FROM ${ident(this.schema)}.checkpoints WHERE name = $1 FOR UPDATE`,
      [name],
    );
    return rows[0] ? Number(rows[0].position) : -1;
  }

  async load(client: Pool | PoolClient, keys: RowKey[]): Promise<Map<string, Doc>> {
    const byTable = new Map<string, Set<string>>();
    for (const k of keys) {
      if (!byTable.has(k.table)) byTable.set(k.table, new Set());
      byTable.get(k.table)!.add(k.id);
    }
    const out = new Map<string, Doc>();
    for (const [table, ids] of byTable) {
      const { rows } = await client.query<{ id: string; doc: Doc }>(
        `SELECT id, doc FROM ${this.table(table)} WHERE id = ANY($1::text[])`,
        [[...ids]],
      );
      for (const r of rows) out.set(rowKey(table, r.id), r.doc);
    }
    return out;
  }

  /**
   * One statement for a batch, in the transaction that locked the checkpoint: the checkpoint moves
   * to `position`, every changed row is upserted or deleted, the command outcomes are recorded.
   */
  async commitBatch(client: PoolClient, batch: BatchCommit): Promise<void> {
    const params: unknown[] = [batch.name, batch.position];
    const param = (v: unknown) => `$${params.push(v)}`;
    const steps = [
      `cp AS (UPDATE ${ident(this.schema)}.checkpoints SET position = $2, updated_at = now() WHERE name = $1)`,
    ];
    const byTable = new Map<string, PendingWrite[]>();
    for (const w of batch.writes.values()) {
      if (!byTable.has(w.table)) byTable.set(w.table, []);
      byTable.get(w.table)!.push(w);
    }
    for (const [table, rows] of byTable) {
      const upserts = rows.filter((r) => r.doc !== null);
      const deletes = rows.filter((r) => r.doc === null).map((r) => r.id);
      if (upserts.length > 0) {
        // one JSON parameter: node-postgres escapes a jsonb[] array literal at half the speed
        const json = param(
          JSON.stringify(upserts.map((r) => ({ id: r.id, doc: r.doc, version: r.version }))),
        );
        steps.push(
          `u${steps.length} AS (INSERT INTO ${this.table(table)} (id, doc, version)
             SELECT r.id, r.doc, r.version FROM jsonb_to_recordset(${json}::jsonb) AS r(id text, doc jsonb, version bigint)
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = excluded.version, updated_at = now())`,
        );
      }
      if (deletes.length > 0) {
        steps.push(
          `d${steps.length} AS (DELETE FROM ${this.table(table)} WHERE id = ANY(${param(deletes)}::text[]))`,
        );
      }
    }
    const o = batch.outcomes;
    if (o.length > 0) {
      const cols = [
        param(o.map((x) => x.commandId)) + '::uuid[]',
        param(o.map((x) => x.status)) + '::text[]',
        param(o.map((x) => x.type)) + '::text[]',
        param(o.map((x) => x.entity)) + '::text[]',
        param(o.map((x) => x.reason ?? null)) + '::text[]',
        param(o.map((x) => x.message ?? null)) + '::text[]',
        param(o.map((x) => x.eventId)) + '::uuid[]',
        param(o.map((x) => x.position)) + '::bigint[]',
      ];
      steps.push(
        `o AS (INSERT INTO ${ident(this.schema)}.command_outcomes (command_id, status, type, entity, reason, message, event_id, position)
           SELECT * FROM unnest(${cols.join(', ')})
           ON CONFLICT (command_id) DO NOTHING)`,
      );
    }
    // data-modifying CTEs all run, whether or not the main query reads them
    await client.query(`WITH ${steps.join(',\n')} SELECT 1`, params);
  }
}

export type PendingWrite = ViewWrite & { version: number };

/** What one batch commits: the checkpoint move, the last state of every changed row, the outcomes. */
export interface BatchCommit {
  name: string;
  position: number;
  writes: Map<string, PendingWrite>;
  outcomes: CommandOutcome[];
}

export const rowKey = (table: string, id: string): string => `${table}\u0000${id}`;
