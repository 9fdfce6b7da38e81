import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResult } from 'pg';
import type { Doc, Projection, RowKey, SplitDoc, ViewWrite } from './projection';
import { childrenSql, joinDoc } from './split-docs';
import { ConfigError } from '../errors';
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

/** Free space left on each page of a view table, for updates that stay on their page. */
const FILLFACTOR = 80;

/** The SQL side of an aggregator's views in one schema: DDL, batched loads, batched writes. */
export class ViewStore {
  /** Split documents' tables, by name. */
  readonly splits: ReadonlyMap<string, SplitDoc>;
  /** The projection's tables, in its order: the order of the write's arguments. */
  private readonly tables: ReadonlySet<string>;
  private readonly write: { name: string; prepare: string };
  /** The connections the write is prepared on (a prepared statement lives as long as its session). */
  private readonly preparedOn = new WeakSet<PoolClient>();

  constructor(
    readonly schema: string,
    private readonly projection: Projection,
  ) {
    this.splits = splitTables(projection);
    this.tables = new Set(projection.tables.map((t) => t.name));
    this.write = this.prepareWrite();
  }

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
      const collate = t.children ? ' COLLATE "C"' : '';
      statements.push(
        `CREATE TABLE IF NOT EXISTS ${table} (id text${collate} PRIMARY KEY, doc jsonb NOT NULL, version bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()) WITH (fillfactor = ${FILLFACTOR})`,
        // rows are rewritten all the time: room on each page lets an update stay on it (a HOT
        // update, which touches no index) when no indexed column changes
        `DO $$ BEGIN
           IF NOT coalesce((SELECT reloptions @> ARRAY['fillfactor=${FILLFACTOR}'] FROM pg_class WHERE oid = '${table}'::regclass), false) THEN
             ALTER TABLE ${table} SET (fillfactor = ${FILLFACTOR});
           END IF;
         END $$`,
        // lz4 compresses the documents (TOASTed above 2 KB) in about two thirds of pglz's time.
        // A server built without it keeps pglz; the ALTER (a brief exclusive lock) runs only once.
        `DO $$ BEGIN
           IF (SELECT attcompression FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = 'doc') <> 'l' THEN
             ALTER TABLE ${table} ALTER COLUMN doc SET COMPRESSION lz4;
           END IF;
         EXCEPTION WHEN feature_not_supported THEN NULL;
         END $$`,
      );
      if (t.children) {
        // a child table made before its ids were byte-wise: its parent_id index found the children
        statements.push(
          `ALTER TABLE ${table} DROP COLUMN IF EXISTS parent_id`,
          `DO $$ BEGIN
             IF (SELECT attcollation FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = 'id')
                <> 'pg_catalog."C"'::regcollation THEN
               ALTER TABLE ${table} ALTER COLUMN id TYPE text COLLATE "C";
             END IF;
           END $$`,
        );
      }
      for (const c of t.columns ?? []) {
        const index = ident(`${t.name}_${c.column}_idx`);
        statements.push(
          `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${ident(c.column)} ${c.type ?? 'text'} GENERATED ALWAYS AS (${c.expression}) STORED`,
          c.index === false
            ? `DROP INDEX IF EXISTS ${ident(this.schema)}.${index}`
            : `CREATE INDEX IF NOT EXISTS ${index} ON ${table} (${ident(c.column)})`,
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

  /** Whether the views hold no row at all. */
  async isEmpty(client: Pool | PoolClient): Promise<boolean> {
    const any = this.projection.tables.map((t) => `SELECT 1 FROM ${this.table(t.name)}`).join(' UNION ALL ');
    const { rows } = await client.query(`SELECT EXISTS (${any}) AS found`);
    return rows[0]?.found === false;
  }

  /** The rows with these keys that exist; a split document whole, joined from its header and children. */
  async load(client: Pool | PoolClient, keys: RowKey[]): Promise<Map<string, Doc>> {
    const byTable = new Map<string, Set<string>>();
    for (const k of keys) {
      if (!byTable.has(k.table)) byTable.set(k.table, new Set());
      byTable.get(k.table)!.add(k.id);
    }
    const out = new Map<string, Doc>();
    for (const [table, ids] of byTable) {
      const split = this.splits.get(table);
      const { rows } = await client.query<{ id: string; doc: Doc; children?: Doc[] }>(
        split
          ? `SELECT h.id, h.doc, ${childrenSql(this.table(split.table), 'h')} AS children
             FROM ${this.table(table)} h WHERE h.id = ANY($1::text[])`
          : `SELECT id, doc FROM ${this.table(table)} WHERE id = ANY($1::text[])`,
        [[...ids]],
      );
      for (const r of rows) out.set(rowKey(table, r.id), split ? joinDoc(split, r.doc, r.children!) : r.doc);
    }
    return out;
  }

  /**
   * Writes a batch in one round trip: the two statements below sent as one simple-query string.
   * On a connection outside a transaction, Postgres runs them as one implicit transaction,
   * committed at their end and rolled back whole if one fails; inside a transaction, they are part
   * of it. Postgres runs each statement only once the one before it has run.
   *
   * 1. Lock the checkpoint row. A replay's switch holds this lock while it renames the schemas:
   *    the statement after it runs once the lock is released, so it names the views the switch put
   *    in place; the position read tells whether the switch moved the checkpoint.
   * 2. The write, which moves the checkpoint from `expected` to `position` and, only if it did,
   *    inserts (rows known to be new), upserts or deletes every changed row and records the command
   *    outcomes. A fence that fails writes nothing (`moved` false).
   *
   * The write is prepared once per connection (`prepareWrite`) and each batch `EXECUTE`s it:
   * planning its dozen CTEs took Postgres as long as running them (0.65 of ~1.5 ms for a batch of a
   * few events, EXPLAIN ANALYZE); prepared, a batch cost it 0.43 ms instead of 0.87, and the
   * aggregators' Postgres CPU at 200 commands/s fell by a third (bench). Its plan refers to tables,
   * not to the schema's name: a rename invalidates it, and it is planned again against the views
   * then under the name. A batch that deletes rows inlines its write instead (see batchStatements).
   * Values go as dollar-quoted literals (the simple-query protocol takes no parameters); a table's
   * documents as one JSON literal (their ids and versions as arrays beside it), the outcomes as
   * one array per column. A write syscall and the wake-up it causes cost ~0.1 ms here: one round
   * trip instead of the two of an explicit BEGIN…COMMIT halves the aggregator's round trips to
   * Postgres.
   */
  writeBatch(client: Pool | PoolClient, batch: BatchCommit, expected: number): Promise<FencedWrite> {
    return this.writeStatements(client, this.batchStatements(batch, expected));
  }

  /** `writeBatch` of statements built beforehand by `batchStatements`, on a connection of the pool or this one. */
  async writeStatements(client: Pool | PoolClient, statements: string): Promise<FencedWrite> {
    if (!isPoolClient(client)) {
      const connection = await client.connect();
      let failure: Error | undefined;
      try {
        return await this.writeStatements(connection, statements);
      } catch (err) {
        failure = err as Error;
        throw err;
      } finally {
        connection.release(failure); // as pool.query does: a connection a query failed on is not reused
      }
    }
    if (!this.preparedOn.has(client)) {
      // another store of these views may have prepared it on this connection (its name is a hash of
      // its text); a PREPARE of it again would fail, and abort the transaction the write may be in
      const { rows } = await client.query('SELECT 1 FROM pg_prepared_statements WHERE name = $1', [
        this.write.name,
      ]);
      if (rows.length === 0) await client.query(this.write.prepare);
      this.preparedOn.add(client);
    }
    let results: QueryResult[];
    try {
      results = (await client.query(statements)) as unknown as QueryResult[];
    } catch (err) {
      // a session that lost it (DISCARD ALL): prepared again on the next attempt
      if ((err as { code?: unknown }).code === UNDEFINED_PREPARED_STATEMENT) this.preparedOn.delete(client);
      throw err;
    }
    const locked = results[0]?.rows[0] as { position: string } | undefined;
    const moved = results[1]?.rows[0] as { moved: string } | undefined;
    return { locked: locked ? Number(locked.position) : -1, moved: Number(moved?.moved ?? 0) === 1 };
  }

  /**
   * The two statements of `writeBatch`, as one string: the lock, then the write with the batch's
   * values — `EXECUTE` of the prepared write, or, for a batch that deletes rows, the write inlined
   * with only the steps it needs. (A DELETE's plan depends on the table's size: planned once while
   * the views were empty it scans the whole table, and the prepared write would run every step for
   * every batch. Deletes are rare: destroyed tasks, projects, memberships.)
   */
  batchStatements(batch: BatchCommit, expected: number): string {
    const byTable = new Map<string, PendingWrite[]>();
    for (const w of batch.writes.values()) {
      if (!this.tables.has(w.table))
        throw new ConfigError(`${w.table} is not a table of ${this.projection.name}`);
      if (!byTable.has(w.table)) byTable.set(w.table, []);
      byTable.get(w.table)!.push(w);
    }
    const name = sqlLiteral(batch.name);
    const lock = `SELECT position FROM ${ident(this.schema)}.checkpoints WHERE name = ${name} FOR UPDATE;\n`;
    const outcomes = batch.outcomes.length === 0 ? undefined : outcomeArrays(batch.outcomes);
    const deletes = [...batch.writes.values()].some((w) => w.doc === null);
    if (deletes) {
      const steps = [this.checkpointStep(int(expected), int(batch.position), name)];
      for (const [table, rows] of byTable) {
        for (const fresh of [true, false]) {
          const values = this.rowValues(table, rows, fresh);
          if (values) steps.push(this.insertStep(steps.length, table, fresh, ...values));
        }
        const gone = rows.filter((r) => r.doc === null);
        if (gone.length > 0)
          steps.push(this.deleteStep(steps.length, table, textArray(gone.map((r) => r.id))));
      }
      if (outcomes) steps.push(this.outcomesStep(steps.length, batch.freshOutcomes === true, outcomes));
      // joined with `+`, not join(): see jsonArrayLiteral
      let statement = `${lock}WITH ${steps[0]!}`;
      for (let i = 1; i < steps.length; i++) statement += `,\n${steps[i]!}`;
      return `${statement}\n${MOVED}`;
    }
    let args = `${int(expected)}, ${int(batch.position)}, ${name}`;
    for (const table of this.tables) {
      for (const fresh of [true, false]) {
        const values = this.rowValues(table, byTable.get(table) ?? [], fresh) ?? NO_ROWS;
        for (const v of values) args += `, ${v}`;
      }
    }
    const recorded = outcomes ?? NO_OUTCOMES;
    const [fresh, other] = batch.freshOutcomes ? [recorded, NO_OUTCOMES] : [NO_OUTCOMES, recorded];
    for (const v of fresh) args += `, ${v}`;
    for (const v of other) args += `, ${v}`;
    return `${lock}EXECUTE ${this.write.name}(${args})`;
  }

  /**
   * The projection's batch write without deletes, one statement whatever the batch holds: it moves
   * the checkpoint from $1 to $2 (row $3) and, only if it did, inserts each table's rows known to be
   * new and upserts the others, then records the outcomes (inserted, or skipped where one is there).
   * What a batch does not touch gets empty arrays. Named by a hash of its text: stores of the same
   * views share it, stores of other views (another schema) do not.
   */
  private prepareWrite(): { name: string; prepare: string } {
    const types = ['bigint', 'bigint', 'text'];
    const param = (type: string) => `$${types.push(type)}`;
    const steps = [this.checkpointStep('$1', '$2', '$3')];
    for (const table of this.tables) {
      for (const fresh of [true, false]) {
        const [docs, ids, versions] = [param('json'), param('text[]'), param('bigint[]')];
        steps.push(this.insertStep(steps.length, table, fresh, docs, ids, versions));
      }
    }
    for (const fresh of [true, false]) {
      const arrays = OUTCOME_COLUMNS.map(([, type]) => param(`${type}[]`));
      steps.push(this.outcomesStep(steps.length, fresh, arrays));
    }
    const body = `WITH ${steps.join(',\n')}\n${MOVED}`;
    const name = `devpie_write_${createHash('sha1').update(body).digest('hex')}`;
    return { name, prepare: `PREPARE ${name} (${types.join(', ')}) AS ${body}` };
  }

  /** A table's documents written by the batch (new ones or the others) as JSON, ids and versions; undefined if none. */
  private rowValues(
    table: string,
    rows: PendingWrite[],
    fresh: boolean,
  ): [string, string, string] | undefined {
    const written = rows.filter((r) => r.doc !== null && (r.fresh === true) === fresh);
    if (written.length === 0) return undefined;
    const split = this.splits.get(table);
    return [
      jsonArrayLiteral(written.map((r) => (split ? split.header(r.doc!) : r.doc))),
      textArray(written.map((r) => r.id)),
      `'{${written.map((r) => int(r.version)).join(',')}}'::bigint[]`,
    ];
  }

  private checkpointStep(expected: string | number, position: string | number, name: string): string {
    return `cp AS (UPDATE ${ident(this.schema)}.checkpoints SET position = ${position}, updated_at = now()
         WHERE name = ${name} AND position = ${expected} RETURNING 1)`;
  }

  /**
   * Rows known to be new are inserted: no probe of the primary key for a conflict first (were one
   * there after all, the statement fails and the batch is folded again, reading its rows).
   */
  private insertStep(
    n: number,
    table: string,
    fresh: boolean,
    docs: string,
    ids: string,
    versions: string,
  ): string {
    return `${fresh ? 'i' : 'u'}${n} AS (INSERT INTO ${this.table(table)} (id, doc, version)
             SELECT r.id, d.doc::jsonb, r.version
             FROM json_array_elements(${docs}) WITH ORDINALITY AS d(doc, n)
             JOIN unnest(${ids}, ${versions}) WITH ORDINALITY AS r(id, version, n) USING (n)
             WHERE ${FENCED}${
               fresh
                 ? ')'
                 : `
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = excluded.version, updated_at = now())`
             }`;
  }

  private deleteStep(n: number, table: string, ids: string): string {
    return `d${n} AS (DELETE FROM ${this.table(table)} WHERE id = ANY(${ids}) AND ${FENCED})`;
  }

  /** The outcomes come as one array per column (`outcomeArrays`), in OUTCOME_COLUMNS's order. */
  private outcomesStep(n: number, fresh: boolean, arrays: readonly string[]): string {
    const columns = OUTCOME_COLUMNS.map(([column]) => column).join(', ');
    return `o${n} AS (INSERT INTO ${ident(this.schema)}.command_outcomes (${columns})
           SELECT * FROM unnest(${arrays.join(', ')}) AS r(${columns})
           WHERE ${FENCED}${fresh ? '' : '\n           ON CONFLICT (command_id) DO NOTHING'})`;
  }
}

/** Every step writes only if the checkpoint moved. */
const FENCED = 'EXISTS (SELECT 1 FROM cp)';
/** Data-modifying CTEs all run, whether or not the main query reads them. */
const MOVED = 'SELECT count(*) AS moved FROM cp';
/** An empty JSON array: no documents for that part of the prepared write. */
const NO_DOCS = `'[]'::json`;
/** A table's part of the prepared write when the batch writes none of its rows. */
const NO_ROWS = [NO_DOCS, `'{}'::text[]`, `'{}'::bigint[]`] as const;

/** command_outcomes's columns a batch writes: name, type, and an outcome's value (null: NULL). */
const OUTCOME_COLUMNS: readonly [string, string, (o: CommandOutcome) => string | null][] = [
  ['command_id', 'uuid', (o) => o.commandId],
  ['status', 'text', (o) => o.status],
  ['type', 'text', (o) => o.type],
  ['entity', 'text', (o) => o.entity],
  ['reason', 'text', (o) => o.reason ?? null],
  ['message', 'text', (o) => o.message ?? null],
  ['event_id', 'uuid', (o) => o.eventId],
  ['position', 'bigint', (o) => String(int(o.position))],
];

/** The outcomes part of the prepared write when the batch records none. */
const NO_OUTCOMES = OUTCOME_COLUMNS.map(([, type]) => `'{}'::${type}[]`);

/**
 * The outcomes as one array constant per column, for `unnest`: Postgres took 6.4–6.9 ms to insert
 * 1,000 outcomes this way and 8.2–8.6 ms from one JSON array (json_to_recordset), side by side.
 */
const outcomeArrays = (outcomes: CommandOutcome[]): string[] =>
  OUTCOME_COLUMNS.map(([, type, value]) => array(outcomes.map(value), type));

/** SQLSTATE: no prepared statement of that name. */
const UNDEFINED_PREPARED_STATEMENT = '26000';

const isPoolClient = (client: Pool | PoolClient): client is PoolClient =>
  typeof (client as Partial<PoolClient>).release === 'function';

/** What a batch's write found: the checkpoint it locked (-1: no row) and whether it moved it. */
export interface FencedWrite {
  locked: number;
  moved: boolean;
}

const int = (n: number): number => {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${n}`);
  return n;
};

/**
 * A string constant that means the same whatever standard_conforming_strings is: dollar-quoted,
 * so that nothing in it is escaped, with a tag that does not occur in the text. (Escaping
 * quotes and backslashes took two passes over a batch's JSON, megabytes with large documents:
 * 6 % of the pipeline's CPU; pg's escapeLiteral, a character at a time, more than the fold.)
 */
export function sqlLiteral(text: string): string {
  let tag = '$j$';
  // nor may the text end with the tag but its last `$`: with the closing tag it would close early
  for (let n = 0; text.includes(tag) || text.endsWith(tag.slice(0, -1)); n++) tag = `$j${n}$`;
  return `${tag}${text}${tag}`;
}

/**
 * A JSON array as a `json` constant. `json`, not `jsonb`: a view write only splits the array into
 * its documents (json_array_elements) and parses each one once (`::jsonb`), its id and version
 * coming beside it in arrays joined by position. Postgres CPU per upserted 500-byte document, side
 * by side: 30-35 µs with jsonb_to_recordset (the whole array parsed to jsonb, then each document
 * printed and parsed again), 18 µs with id and version read from each element (every `->` parses
 * it again), 13-14 µs this way.
 *
 * Each element is stringified and searched for the tag apart (no tag character is one of `[,]`,
 * so no tag spans two elements, and the text ends with `]`), and the pieces are joined with `+`:
 * a search of, or join() into, the whole text would copy it into one flat string, which V8 puts
 * in a freshly mapped large-object page above 128 KB; those page faults, twice per batch, took
 * ~2 µs per document (bench/replay: a batch's literals are ~500 KB). Postgres's client flattens
 * the statement once, as it sends it.
 */
function jsonArrayLiteral(values: unknown[]): string {
  const parts = values.map((v) => JSON.stringify(v));
  let tag = '$j$';
  for (let n = 0; parts.some((p) => p.includes(tag)); n++) tag = `$j${n}$`;
  let text = `${tag}[`;
  for (let i = 0; i < parts.length; i++) text += i === 0 ? parts[i]! : `,${parts[i]!}`;
  return `${text}]${tag}::json`;
}

/**
 * An array constant of `type`: each element double-quoted with its `"` and `\` escaped (so that
 * no value, whatever it holds, splits into two elements or moves to another), null as NULL, the
 * whole dollar-quoted.
 */
const array = (values: (string | null)[], type: string): string =>
  `${sqlLiteral(`{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`)}::${type}[]`;

const textArray = (values: string[]): string => array(values, 'text');

/** A row's last write in a batch, at the position of its event; `fresh`: the row did not exist before the batch. */
export type PendingWrite = ViewWrite & { version: number; fresh?: boolean };

/** What one batch commits: the checkpoint move, the last state of every changed row, the outcomes. */
export interface BatchCommit {
  name: string;
  position: number;
  writes: Map<string, PendingWrite>;
  outcomes: CommandOutcome[];
  /**
   * No outcome of these commands is recorded yet (nor twice among them): they are inserted without
   * a conflict check, a third cheaper for Postgres than ON CONFLICT's speculative insert. Were one
   * there after all, the statement fails and the batch is folded again without this.
   */
  freshOutcomes?: boolean;
}

export const rowKey = (table: string, id: string): string => `${table}\u0000${id}`;

/** The projection's split documents by table; each one's child table must be among its tables. */
export function splitTables(projection: Projection): ReadonlyMap<string, SplitDoc> {
  const splits = new Map<string, SplitDoc>();
  for (const t of projection.tables) {
    if (!t.split) continue;
    const child = projection.tables.find((c) => c.name === t.split!.table);
    if (child?.children !== true) {
      throw new ConfigError(
        `${projection.name}: ${t.name}'s children need a table "${t.split.table}" made by childTable()`,
      );
    }
    splits.set(t.name, t.split);
  }
  return splits;
}
