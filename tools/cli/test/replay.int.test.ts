import { buildAggregator, createLogger, newId } from '@devpie/client-events';
import { eventually, openTestEnv, type TestEnv } from '@devpie/client-events/testing';
import { counterProjection } from '../../../common-events/test/fixtures/counter';
import { replayAggregator } from '../src/replay';
import { replayHarness } from './replay-harness';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

const h = () => replayHarness(env, logger);

test(
  'devpie replay rebuilds while writes go on, switches atomically, and nothing is applied twice',
  () => h().liveThroughSwitch(undefined),
  60_000,
);

test('devpie replay of a brand-new aggregator puts the views in place; the aggregator starts where they end', async () => {
  const { counters, schemaExists, writers } = h();
  const projection = { ...counterProjection, name: 'fresh', schema: 'fresh' };
  const entities = [newId(), newId(), newId()];
  const w = writers(entities);
  await w.burst(20);
  const schema = env.names.schema('fresh');
  expect(await schemaExists(schema)).toBe(false);

  const result = await replayAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection,
    logger,
    tag: '20260101000001',
    progressEveryMs: 20,
  });
  expect(result).toMatchObject({ schema, oldSchema: undefined, livePosition: 0 });
  const mine = async () => (await counters(schema)).filter((r) => entities.includes(r.id));
  expect(await mine()).toHaveLength(3);

  await w.burst(5);
  const agg = buildAggregator({ messaging: env.messaging, pool: env.pool, projection, logger });
  await agg.start();
  const last = (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;
  await eventually(() => (agg.position >= last ? true : undefined));
  await agg.stop();
  for (const r of await mine()) expect({ sum: r.sum, applied: r.applied }).toEqual(w.expected.get(r.id));
}, 30_000);
