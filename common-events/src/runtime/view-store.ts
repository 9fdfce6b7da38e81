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

  /** Locks the checkpoint row for the transaction and returns the last applied stream sequence. */
  async checkpoint(client: PoolClient, name: string): Promise<number> {
    await client.query(
      `INSERT INTO ${ident(this.schema)}.checkpoints (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`,
      [name],
    );
    const { rows } = await client.query<{ position: string }>(
      `SELECT position FROM ${ident(this.schema)}.checkpoints WHERE name = $1 FOR UPDATE`,
      [name],
    );
    return Number(rows[0]!.position);
  }

  async saveCheckpoint(client: PoolClient, name: string, position: number): Promise<void> {
    await client.query(
      `UPDATE ${ident(this.schema)}.checkpoints SET position = $2, updated_at = now() WHERE name = $1`,
      [name, position],
    );
  }

  async load(client: PoolClient, keys: RowKey[]): Promise<Map<string, Doc>> {
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

  /** Writes the last state of every changed row: one upsert and one delete per table. */
  async write(client: PoolClient, writes: Map<string, ViewWrite & { version: number }>): Promise<void> {
    const byTable = new Map<string, (ViewWrite & { version: number })[]>();
    for (const w of writes.values()) {
      if (!byTable.has(w.table)) byTable.set(w.table, []);
      byTable.get(w.table)!.push(w);
    }
    for (const [table, rows] of byTable) {
      const upserts = rows.filter((r) => r.doc !== null);
      const deletes = rows.filter((r) => r.doc === null).map((r) => r.id);
      if (upserts.length > 0) {
        await client.query(
          // one JSON parameter: node-postgres escapes a jsonb[] array literal at half the speed
          `INSERT INTO ${this.table(table)} (id, doc, version)
           SELECT r.id, r.doc, r.version FROM jsonb_to_recordset($1::jsonb) AS r(id text, doc jsonb, version bigint)
           ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = excluded.version, updated_at = now()`,
          [JSON.stringify(upserts.map((r) => ({ id: r.id, doc: r.doc, version: r.version })))],
        );
      }
      if (deletes.length > 0) {
        await client.query(`DELETE FROM ${this.table(table)} WHERE id = ANY($1::text[])`, [deletes]);
      }
    }
  }

  async recordOutcomes(client: PoolClient, outcomes: CommandOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await client.query(
      `INSERT INTO ${ident(this.schema)}.command_outcomes (command_id, status, type, entity, reason, message, event_id, position)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::bigint[])
       ON CONFLICT (command_id) DO NOTHING`,
      [
        outcomes.map((o) => o.commandId),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.type),
        outcomes.map((o) => o.entity),
        outcomes.map((o) => o.reason ?? null),
        outcomes.map((o) => o.message ?? null),
        outcomes.map((o) => o.eventId),
        outcomes.map((o) => o.position),
      ],
    );
  }
}

export const rowKey = (table: string, id: string): string => `${table}\u0000${id}`;
