/**
 * Split documents: the runner stores a header row and only the child rows each event changed.
 * Whatever the batching and whether rows come from the cache or from Postgres, the rows are
 * those of a fresh replay (documents and versions), and the documents are whole again when read.
 */
import {
  buildAggregator,
  buildComponent,
  childrenSql,
  createLogger,
  envelope,
  joinDoc,
  newId,
  ViewStore,
  type Doc,
} from '../src';
import { eventually, openTestEnv, type TestEnv } from '../src/testing';
import { counterDecider, tallyProjection, tallySplit, type TallyDoc } from './fixtures/counter';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

type Row = { id: string; doc: Doc; version: number };
async function rows(schema: string, table: string): Promise<Row[]> {
  const { rows: r } = await env.pool.query<{ id: string; doc: Doc; version: string }>(
    `SELECT id, doc, version FROM "${schema}".${table} ORDER BY id`,
  );
  return r.map((x) => ({ id: x.id, doc: x.doc, version: Number(x.version) }));
}

const tallies = (schema: string, durable: string, opts: { maxBatch?: number; cacheRows?: number } = {}) =>
  buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: tallyProjection,
    logger,
    schema,
    durable,
    notices: false,
    ...opts,
  });

async function caughtUp(aggregator: { position: number }) {
  const last = (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;
  await eventually(() => (aggregator.position >= last ? true : undefined), 20_000);
}

async function fold(schema: string, durable: string, opts: { maxBatch: number; cacheRows?: number }) {
  const aggregator = tallies(schema, durable, opts);
  await aggregator.start();
  await caughtUp(aggregator);
  await aggregator.stop();
}

test('header and child rows equal a fresh replay, with or without the row cache, in any batches', async () => {
  const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'tally-w', logger });
  const ids = Array.from({ length: 5 }, () => newId());
  const sums = new Map<string, { sum: number; bys: number[] }>(ids.map((id) => [id, { sum: 0, bys: [] }]));
  const write = (rounds: number, from: number) =>
    Promise.all(
      ids.map(async (id, k) => {
        for (let i = from; i < from + rounds; i++) {
          const by = ((i * 3 + k) % 7) + 1;
          await c.handle(envelope('Increment', { projectId: id, by }, { userId: null }));
          const s = sums.get(id)!;
          s.sum += by;
          s.bys.push(by);
        }
      }),
    );
  const live = env.names.schema('tally_live');
  const uncached = env.names.schema('tally_uncached');
  const replay = env.names.schema('tally_replay');
  await write(6, 0);
  await fold(uncached, 'tally-uncached', { maxBatch: 3, cacheRows: 0 });
  await write(6, 6);
  await c.handle(envelope('Close', { projectId: ids[4]! }, { userId: null }));
  // a new instance with nothing cached: every document it folds on is read back from its rows
  await fold(uncached, 'tally-uncached', { maxBatch: 3, cacheRows: 0 });
  await fold(live, 'tally-live', { maxBatch: 4 });
  await fold(replay, 'tally-replay', { maxBatch: 1000 });

  const headers = await rows(live, 'tallies');
  const items = await rows(live, 'tally_items');
  // the closed counter and its items are gone; each other keeps its last three increments
  expect(headers.map((h) => h.id).sort()).toEqual(ids.slice(0, 4).sort());
  expect(items).toHaveLength(12);
  for (const h of headers) {
    const mine = items.filter((i) => i.id.startsWith(`${h.id}/`)).map((i) => i.doc);
    const whole = joinDoc(tallySplit, h.doc, mine) as TallyDoc;
    const expected = sums.get(h.id)!;
    expect(whole.sum).toBe(expected.sum);
    expect(whole.recent.map((r) => r.by)).toEqual(expected.bys.slice(-3));
    expect(h.doc.recent).toEqual(whole.recent.map((r) => r.id));
  }
  // every child row's version is the event that last changed it, however the events were batched
  for (const table of ['tallies', 'tally_items']) {
    expect(await rows(uncached, table)).toEqual(await rows(live, table));
    expect(await rows(replay, table)).toEqual(await rows(live, table));
  }
});

test('rows known to be new are inserted; one there after all fails the batch once, then it is upserted', async () => {
  const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'tally-f', logger });
  const schema = env.names.schema('tally_behind');
  const aggregator = tallies(schema, 'tally-behind');
  await aggregator.start(); // empty views: it takes every row it has not written for absent
  const id = newId();
  // written behind its back: a header, and an orphan child row that the next increment makes
  await env.pool.query(`INSERT INTO "${schema}".tallies (id, doc, version) VALUES ($1, $2, 1)`, [
    id,
    JSON.stringify({ id, sum: 1, recent: [] }),
  ]);
  await env.pool.query(
    `INSERT INTO "${schema}".tally_items (id, doc, version) VALUES ($1 || '/at4', '{"id":"at4","by":9}', 1)`,
    [id],
  );
  await c.handle(envelope('Increment', { projectId: id, by: 3 }, { userId: null }));
  await caughtUp(aggregator);
  await aggregator.stop();
  // folded on the row it found: 1 + 3, with the increment that made `at4`
  const header = (await rows(schema, 'tallies')).find((r) => r.id === id)!;
  const items = (await rows(schema, 'tally_items')).filter((r) => r.id.startsWith(`${id}/`));
  expect(
    joinDoc(
      tallySplit,
      header.doc,
      items.map((i) => i.doc),
    ),
  ).toEqual({
    id,
    sum: 4,
    recent: [{ id: 'at4', by: 3 }],
  });
});

test("a document's children are exactly the child rows named <its id>/…, also after migrating a child table made with a parent_id index", async () => {
  const schema = env.names.schema(`split_${newId().slice(-8)}`);
  const t = (name: string) => `"${schema}".${name}`;
  // a child table as it was made before its ids compared byte-wise
  await env.pool.query(`CREATE SCHEMA "${schema}"`);
  await env.pool.query(
    `CREATE TABLE ${t('tally_items')} (id text PRIMARY KEY, doc jsonb NOT NULL, version bigint NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now(),
       parent_id text GENERATED ALWAYS AS (split_part(id, '/', 1)) STORED)`,
  );
  await env.pool.query(`CREATE INDEX tally_items_parent_id_idx ON ${t('tally_items')} (parent_id)`);
  // ids around 'a' in byte order: '.' < '/' < '0' < 'b'
  const headers = ['a', 'a.x', 'a0', 'ab', 'A'];
  const children = headers.flatMap((h) => [`${h}/1`, `${h}/2`]);
  await env.pool.query(
    `INSERT INTO ${t('tally_items')} (id, doc, version) SELECT id, jsonb_build_object('id', id), 1 FROM unnest($1::text[]) AS id`,
    [children],
  );
  await new ViewStore(schema, tallyProjection).migrate(env.pool);
  const columns = await env.pool.query<{ attname: string; collation: string }>(
    `SELECT attname, attcollation::regcollation::text AS collation FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [t('tally_items')],
  );
  expect(columns.rows).toEqual([
    { attname: 'id', collation: '"C"' },
    { attname: 'doc', collation: '-' },
    { attname: 'version', collation: '-' },
    { attname: 'updated_at', collation: '-' },
  ]);
  const indexes = await env.pool.query(
    `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`,
    [schema, 'tally_items'],
  );
  expect(indexes.rows).toEqual([{ indexname: 'tally_items_pkey' }]);
  await env.pool.query(
    `INSERT INTO ${t('tallies')} (id, doc, version) SELECT id, '{}', 1 FROM unnest($1::text[]) AS id`,
    [headers],
  );
  const { rows: found } = await env.pool.query<{ id: string; children: { id: string }[] }>(
    `SELECT h.id, ${childrenSql(t('tally_items'), 'h')} AS children FROM ${t('tallies')} h`,
  );
  expect(new Map(found.map((r) => [r.id, r.children.map((c) => c.id).sort()]))).toEqual(
    new Map(headers.map((h) => [h, [`${h}/1`, `${h}/2`]])),
  );
  // one range of the primary key can serve it (the table is too small for the planner to prefer it)
  const client = await env.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT ${childrenSql(t('tally_items'), 'h')} FROM ${t('tallies')} h WHERE h.id = 'a'`,
    );
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan using tally_items_pkey/);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
  await env.pool.query(`DROP SCHEMA "${schema}" CASCADE`);
});
