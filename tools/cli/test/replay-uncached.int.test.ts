/**
 * The replay switch under load with a live aggregator that reads every row from the views, and
 * with one that commits each batch in one round trip (the services' commit, without the slow
 * two-round-trip commit the other replay tests hold the lock with). Each in its own namespace.
 */
import { createLogger } from '@devpie/client-events';
import { openTestEnv, type TestEnv } from '@devpie/client-events/testing';
import { replayHarness } from './replay-harness';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeEach(async () => {
  env = await openTestEnv();
});
afterEach(() => env.close());

// every batch reads its rows from Postgres: after the switch, from the rebuilt views (the fence
// itself is tested in common-events/test/aggregator-pipeline.int.test.ts)
test(
  'devpie replay switches under a live aggregator without a row cache; nothing is applied twice',
  () => replayHarness(env, logger).liveThroughSwitch(0),
  60_000,
);

test(
  'devpie replay switches under a live aggregator committing in one round trip; nothing is applied twice',
  () => replayHarness(env, logger).liveThroughSwitch(undefined, false),
  60_000,
);
