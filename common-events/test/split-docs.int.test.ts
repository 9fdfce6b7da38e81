/**
 * Split documents: the runner stores a header row and only the child rows each event changed.
 * Whatever the batching and whether rows come from the cache or from Postgres, the rows are
 * those of a fresh replay (documents and versions), and the documents are whole again when read.
 */
import { buildAggregator, buildComponent, createLogger, envelope, joinDoc, newId, type Doc } from '../src';
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
