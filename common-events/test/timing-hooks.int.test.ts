import { buildAggregator, buildComponent, createLogger, envelope, newId } from '../src';
import { eventually, openTestEnv, type TestEnv } from '../src/testing';
import { counterDecider, counterProjection } from './fixtures/counter';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

test('the hooks time each command from its metadata.time: taken, appended, folded, committed', async () => {
  const outcomes: { ms: number; waitedMs: number }[] = [];
  const batches: { size: number; commandToFoldMs: number[]; commandToViewMs: number[] }[] = [];
  const aggregator = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    hooks: { onBatch: (b) => void batches.push(b) },
  });
  await aggregator.start();
  try {
    const c = buildComponent({
      messaging: env.messaging,
      decider: counterDecider,
      name: 'timing',
      logger,
      hooks: { onOutcome: (_type, _outcome, ms, waitedMs) => void outcomes.push({ ms, waitedMs }) },
    });
    const projectId = newId();
    // created 200 ms before they are handled: every stage is at least that late
    const time = new Date(Date.now() - 200).toISOString();
    for (let by = 1; by <= 5; by++) {
      await c.handle(envelope('Increment', { projectId, by }, { userId: null, time }));
    }
    expect(outcomes).toHaveLength(5);
    for (const o of outcomes) {
      expect(o.waitedMs).toBeGreaterThanOrEqual(200);
      expect(o.ms).toBeGreaterThanOrEqual(0);
    }
    // one time per event folded (the batch's size counts what it ignored too)
    const folded = () => batches.reduce((n, b) => n + b.commandToFoldMs.length, 0);
    await eventually(() => (folded() >= 5 ? true : undefined), 10_000);
    expect(folded()).toBe(5);
    for (const b of batches) {
      expect(b.commandToViewMs).toHaveLength(b.commandToFoldMs.length);
      b.commandToFoldMs.forEach((fold, i) => {
        expect(fold).toBeGreaterThanOrEqual(200);
        expect(b.commandToViewMs[i]).toBeGreaterThanOrEqual(fold);
      });
    }
  } finally {
    await aggregator.stop();
  }
}, 30_000);
