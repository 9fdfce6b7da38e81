import { createLogger, envelope, EntityStore, newId, buildComponent } from '../src';
import { openTestEnv, type TestEnv } from '../src/testing';
import { counterDecider, type CounterState } from './fixtures/counter';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

test('a long entity is loaded from its snapshot plus the events after it, to the same state', async () => {
  const c = buildComponent({
    messaging: env.messaging,
    decider: counterDecider,
    name: 'snap',
    logger: createLogger('t', 'silent'),
    store: { snapshotEvery: 100 },
  });
  const projectId = newId();
  for (let i = 1; i <= 450; i++)
    await c.handle(envelope('Increment', { projectId, by: 1 }, { userId: null }));
  const loads: { snapshotVersion: number; replayed: number }[] = [];
  const cold = new EntityStore<CounterState>(env.messaging, counterDecider, { onLoad: (l) => loads.push(l) });
  const entity = await cold.load(projectId);
  expect(entity.state).toEqual({ total: 450, count: 450, closed: false });
  expect(entity.processed.size).toBe(450);
  // the snapshot at message 400 was used: only the 50 after it were read
  expect(loads).toEqual([expect.objectContaining({ replayed: 50 })]);
  expect(loads[0]!.snapshotVersion).toBeGreaterThan(0);

  // a snapshot written by an older `evolve` (another stateVersion) is ignored: full replay, same state
  const older = new EntityStore<CounterState>(
    env.messaging,
    { ...counterDecider, stateVersion: 2 },
    {
      onLoad: (l) => loads.push(l),
    },
  );
  expect((await older.load(projectId)).state).toEqual(entity.state);
  expect(loads[1]).toMatchObject({ snapshotVersion: 0, replayed: 450 });
});

test('an event of a known type whose data breaks its contract is skipped like an unknown one, not fatal for the entity', async () => {
  const unreadable: number[] = [];
  const c = buildComponent({
    messaging: env.messaging,
    decider: counterDecider,
    name: 'tolerant',
    logger: createLogger('t', 'silent'),
    store: { cacheSize: 1 },
  });
  const projectId = newId();
  await c.handle(envelope('Increment', { projectId, by: 2 }, { userId: null }));
  // written by something that ignored the contract: a known type, data that does not parse
  const bad = envelope('Incremented', { projectId, by: 'two' }, { userId: null });
  const ack = await env.messaging.js.publish(
    env.names.entity('projects', projectId),
    new TextEncoder().encode(JSON.stringify(bad)),
  );
  c.store.invalidate(projectId);
  await expect(
    c.handle(envelope('Increment', { projectId, by: 3 }, { userId: null })),
  ).resolves.toMatchObject({
    outcome: 'accepted',
  });
  const cold = new EntityStore<CounterState>(env.messaging, counterDecider, {
    onUnreadable: (_subject, seq) => unreadable.push(seq),
  });
  const entity = await cold.load(projectId);
  expect(entity.state).toEqual({ total: 5, count: 2, closed: false });
  expect(unreadable).toEqual([ack.seq]);
});
