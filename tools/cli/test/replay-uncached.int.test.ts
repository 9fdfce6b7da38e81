/** The replay switch under load with a live aggregator that reads every row from the views. */
import { createLogger } from '@devpie/client-events';
import { openTestEnv, type TestEnv } from '@devpie/client-events/testing';
import { replayHarness } from './replay-harness';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

// every batch reads its rows from Postgres: after the switch, from the rebuilt views (the fence
// itself is tested in common-events/test/aggregator-pipeline.int.test.ts)
test(
  'devpie replay switches under a live aggregator without a row cache; nothing is applied twice',
  () => replayHarness(env, logger).liveThroughSwitch(0),
  60_000,
);
