import { buildAggregator, buildComponent, createLogger, envelope, newId } from '../src';
import { eventually, openTestEnv, type TestEnv } from '../src/testing';
import { counterDecider, counterProjection } from './fixtures/counter';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

test('a delivery the aggregator never received (lost in flight) is folded, never acknowledged past', async () => {
  const aggregator = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    maxBatch: 2,
    maxWaitMs: 1,
  });
  await aggregator.start();
  try {
    // Another client takes deliveries of the aggregator's durable and never acks them: from the
    // aggregator's side, what a delivery lost in flight (a server restart, a dropped connection)
    // looks like. With ack-all, acknowledging a later message would acknowledge those too.
    const rogue = await env.connect('rogue');
    const consumer = await rogue.js.consumers.get(env.names.stream('EVENTS'), aggregator.durable);
    let writing = true;
    const stolen: number[] = [];
    const thief = (async () => {
      while (writing && stolen.length < 3) {
        const m = await consumer.next({ expires: 1000 }).catch(() => null);
        if (m) stolen.push(m.seq);
      }
    })();
    const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'gaps', logger });
    const projectId = newId();
    let expected = 0;
    for (let i = 1; i <= 150 && stolen.length < 3; i++) {
      expected += i;
      await c.handle(envelope('Increment', { projectId, by: i }, { userId: null }));
      await new Promise((r) => setTimeout(r, 2));
    }
    writing = false;
    await thief;
    expect(stolen.length).toBeGreaterThan(0);
    const schema = aggregator.views.schema;
    await eventually(async () => {
      const { rows } = await env.pool.query<{ doc: { sum: number; applied: number } }>(
        `SELECT doc FROM "${schema}".counters WHERE id = $1`,
        [projectId],
      );
      return rows[0]?.doc.sum === expected ? true : undefined;
    }, 15_000);
  } finally {
    await aggregator.stop();
  }
}, 30_000);
