import {
  createLogger,
  envelope,
  EntityLoadStalledError,
  EntityStore,
  newId,
  buildComponent,
  type Messaging,
} from '../src';
import { isUnavailable } from '../src/runtime/durable';
import { openTestEnv, type TestEnv } from '../src/testing';
import { counterDecider, type CounterState } from './fixtures/counter';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

/** A counter component on the test's servers (its store is what these tests read back). */
const counterComponent = (name: string, store?: Parameters<typeof buildComponent>[0]['store']) =>
  buildComponent({
    messaging: env.messaging,
    decider: counterDecider,
    name,
    logger: createLogger('t', 'silent'),
    store,
  });

test('a long entity is loaded from its snapshot plus the events after it, to the same state', async () => {
  const c = counterComponent('snap', { snapshotEvery: 100 });
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
  const c = counterComponent('tolerant', { cacheSize: 1 });
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

test('a load whose events stop coming fails after catchUpStallMs instead of holding the entity for good', async () => {
  const c = counterComponent('stall');
  const projectId = newId();
  for (let i = 0; i < 3; i++) await c.handle(envelope('Increment', { projectId, by: 1 }, { userId: null }));
  // the stream says the entity has two messages more than its consumer will ever deliver (as when
  // the consumer was lost with the server that held it)
  const { direct } = env.messaging.jsm;
  const ahead = {
    ...env.messaging,
    jsm: {
      ...env.messaging.jsm,
      direct: {
        getMessage: async (...args: Parameters<typeof direct.getMessage>) => {
          const m = await direct.getMessage(...args);
          return m && { seq: m.seq + 2, data: m.data };
        },
      },
    },
  } as unknown as Messaging;
  const store = new EntityStore<CounterState>(ahead, counterDecider, { catchUpStallMs: 300 });
  const started = Date.now();
  const failure = await store.load(projectId).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failure).toBeInstanceOf(EntityLoadStalledError);
  expect(isUnavailable(failure)).toBe(true); // retried, never parked
  expect(Date.now() - started).toBeLessThan(5_000);
  // the same load with the stream as it is reads all three
  const fine = new EntityStore<CounterState>(env.messaging, counterDecider, { catchUpStallMs: 300 });
  expect((await fine.load(projectId)).state).toMatchObject({ total: 3, count: 3 });
});
