/**
 * The aggregator's fast path: rows from its own cache, batch N+1 folded while batch N commits,
 * batches of ignored events acknowledged without a commit. Each shortcut must leave the views
 * exactly as a plain fold of every event would.
 */
import { buildAggregator, buildComponent, createLogger, createPool, encode, envelope, newId } from '../src';
import { eventually, openTestEnv, TEST_DATABASE_URL, type TestEnv } from '../src/testing';
import { counterDecider, counterProjection, readCounters } from './fixtures/counter';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

const counters = (schema: string) => readCounters(env.pool, schema);

const lastSeq = async () => (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;

async function checkpoint(schema: string, durable: string): Promise<number> {
  const { rows } = await env.pool.query<{ position: string }>(
    `SELECT position FROM "${schema}".checkpoints WHERE name = $1`,
    [env.names.durable(durable)],
  );
  return Number(rows[0]?.position ?? 0);
}

test('commits that fail while the next batch is already folded on their rows: views equal a fold without cache', async () => {
  const entities = Array.from({ length: 6 }, () => newId());
  let batches = 0;
  let failed = 0;
  const live = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    durable: 'flaky',
    schema: env.names.schema('flaky'),
    maxBatch: 7,
    // fewer cached rows than entities: batches also load rows, and the next batch arrives meanwhile
    cacheRows: 3,
    hooks: {
      // every third commit fails once: it and whatever was folded on top of it are folded again
      beforeCommit() {
        if (++batches % 3 === 0) {
          failed++;
          throw new Error('injected commit failure');
        }
      },
    },
  });
  await live.start();
  const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'flaky-w', logger });
  const expected = new Map(entities.map((id) => [id, { sum: 0, applied: 0 }]));
  // entities written concurrently, so that batches mix them and arrive back to back
  await Promise.all(
    entities.map(async (id, k) => {
      for (let i = 0; i < 40; i++) {
        const by = ((i + k) % 5) + 1;
        await c.handle(envelope('Increment', { projectId: id, by }, { userId: null }));
        const e = expected.get(id)!;
        e.sum += by;
        e.applied++;
      }
    }),
  );
  const last = await lastSeq();
  await eventually(() => (live.position >= last ? true : undefined), 20_000);
  await live.stop();

  const plain = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    durable: 'plain',
    schema: env.names.schema('plain'),
    cacheRows: 0,
    maxBatch: 1,
  });
  await plain.start();
  await eventually(() => (plain.position >= last ? true : undefined), 20_000);
  await plain.stop();

  expect(failed).toBeGreaterThan(3);
  const rows = await counters(env.names.schema('flaky'));
  expect(rows).toEqual(await counters(env.names.schema('plain')));
  for (const id of entities) expect(rows.find((r) => r.id === id)).toEqual({ id, ...expected.get(id)! });
}, 60_000);

test('batches with nothing to write are acknowledged without a commit; a restart folds from the saved checkpoint', async () => {
  const schema = env.names.schema('quiet');
  const make = (idleCheckpointMs: number) =>
    buildAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: counterProjection,
      logger,
      durable: 'quiet',
      schema,
      idleCheckpointMs,
    });
  const first = make(60_000);
  await first.start();
  const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'quiet-w', logger });
  const projectId = newId();
  await c.handle(envelope('Increment', { projectId, by: 3 }, { userId: null }));
  const written = await lastSeq();
  await eventually(async () => ((await checkpoint(schema, 'quiet')) >= written ? true : undefined));
  // events this projection folds to nothing (no command caused them): no row, no outcome
  for (let i = 0; i < 20; i++) {
    const ignored = envelope('Closed', { projectId: newId() }, { userId: null });
    await env.messaging.js.publish(env.names.entity('projects', ignored.data.projectId), encode(ignored));
  }
  const last = await lastSeq();
  await eventually(() => (first.position >= last ? true : undefined));
  expect(await checkpoint(schema, 'quiet')).toBeLessThan(last);
  await first.stop();

  // the next instance reads the ignored events again from the saved checkpoint; nothing changes;
  // with no idle allowance it saves the checkpoint past them without anything to write
  const second = make(0);
  await second.start();
  await eventually(() => (second.position >= last ? true : undefined));
  await eventually(async () => ((await checkpoint(schema, 'quiet')) >= last ? true : undefined));
  expect((await counters(schema)).find((r) => r.id === projectId)).toEqual({
    id: projectId,
    sum: 3,
    applied: 1,
  });
  await c.handle(envelope('Increment', { projectId, by: 4 }, { userId: null }));
  const end = await lastSeq();
  await eventually(async () => ((await checkpoint(schema, 'quiet')) >= end ? true : undefined));
  await second.stop();
  const rows = await counters(schema);
  expect(rows.find((r) => r.id === projectId)).toEqual({ id: projectId, sum: 7, applied: 2 });
});

test('a checkpoint moved by another writer (a replay switch) is not written over: the aggregator folds on from it', async () => {
  const schema = env.names.schema('fenced');
  const live = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    durable: 'fenced',
    schema,
    cacheRows: 0,
  });
  await live.start();
  const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'fenced-w', logger });
  const projectId = newId();
  await c.handle(envelope('Increment', { projectId, by: 1 }, { userId: null }));
  const before = await lastSeq();
  await eventually(async () => ((await checkpoint(schema, 'fenced')) >= before ? true : undefined));

  // another writer claims the next five events: it folds them into the row and moves the checkpoint
  const bys = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const claimed = bys.slice(0, 5).reduce((a, b) => a + b, 0);
  await env.pool.query(
    `UPDATE "${schema}".counters SET doc = jsonb_build_object('sum', 1 + $2::int, 'applied', 6) WHERE id = $1`,
    [projectId, claimed],
  );
  await env.pool.query(`UPDATE "${schema}".checkpoints SET position = $2 WHERE name = $1`, [
    env.names.durable('fenced'),
    before + 5,
  ]);
  for (const by of bys) await c.handle(envelope('Increment', { projectId, by }, { userId: null }));
  const last = await lastSeq();
  expect(last).toBe(before + bys.length);
  await eventually(() => (live.position >= last ? true : undefined));
  await live.stop();
  const total = 1 + bys.reduce((a, b) => a + b, 0);
  expect((await counters(schema)).find((r) => r.id === projectId)).toEqual({
    id: projectId,
    sum: total,
    applied: 1 + bys.length,
  });
});

test('an aggregator whose views were empty reads no row back; one that finds rows reads those it needs', async () => {
  const pool = createPool(TEST_DATABASE_URL, 4);
  let reads = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: typeof query }).query = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('= ANY($1::text[])')) reads++;
    return query(...args);
  };
  const schema = env.names.schema('fresh_reads');
  const make = () =>
    buildAggregator({
      messaging: env.messaging,
      pool,
      projection: counterProjection,
      logger,
      durable: 'fresh-reads',
      schema,
      maxBatch: 5,
    });
  const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'fresh-w', logger });
  const ids = Array.from({ length: 4 }, () => newId());
  const write = () =>
    Promise.all(ids.map((id) => c.handle(envelope('Increment', { projectId: id, by: 2 }, { userId: null }))));
  try {
    await write();
    await write();
    const first = make();
    await first.start();
    let last = await lastSeq();
    await eventually(() => (first.position >= last ? true : undefined));
    await first.stop();
    expect(reads).toBe(0);

    // a new instance finds views that are not empty: the rows it folds on come from Postgres
    await write();
    const second = make();
    await second.start();
    last = await lastSeq();
    await eventually(() => (second.position >= last ? true : undefined));
    await second.stop();
    expect(reads).toBeGreaterThan(0);
    const rows = await counters(schema);
    expect(rows.filter((r) => ids.includes(r.id)).map((r) => [r.sum, r.applied])).toEqual(
      ids.map(() => [6, 3]),
    );
  } finally {
    await pool.end();
  }
});
