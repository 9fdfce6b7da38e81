import { fork } from 'node:child_process';
import pino from 'pino';
import path from 'node:path';
import type { ConsumeOptions, ConsumerMessages } from '@nats-io/jetstream';
import {
  buildAggregator,
  createLogger,
  encode,
  envelope,
  newId,
  buildComponent,
  createPool,
  listParked,
  type Messaging,
} from '../src';
import { eventually, openTestEnv, TEST_DATABASE_URL, type TestEnv } from '../src/testing';
import { counterDecider, counterProjection, readCounters } from './fixtures/counter';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

/** Appends `n` Increment events over `entities` counters through a real component. */
async function writeEvents(entities: string[], n: number) {
  const c = buildComponent({
    messaging: env.messaging,
    decider: counterDecider,
    name: `w${newId().slice(-8)}`,
    logger,
  });
  let expected = 0;
  for (let i = 0; i < n; i++) {
    const by = (i % 7) + 1;
    expected += by;
    await c.handle(
      envelope('Increment', { projectId: entities[i % entities.length]!, by }, { userId: null }),
    );
  }
  return expected;
}

const counters = (schema: string) => readCounters(env.pool, schema);

type LogLine = { msg: string };
/** A logger at info whose lines land in `lines`, for tests that check what an aggregator said. */
const capturing = (lines: LogLine[]) =>
  pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });

function runVictim(crashAt: 'beforeCommit' | 'afterCommit') {
  const child = fork(path.join(__dirname, 'fixtures/aggregator-process.ts'), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NAMESPACE: env.names.namespace, CRASH_AT: crashAt },
    stdio: process.env.TEST_LOG ? 'inherit' : 'ignore',
  });
  return new Promise<number | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal ? 9 : _code)),
  );
}

test.each(['beforeCommit', 'afterCommit'] as const)(
  'an aggregator killed %s leaves views equal to a clean replay, each event applied once',
  async (crashAt) => {
    const schema = env.names.schema('counters');
    await env.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const c of await env.messaging.jsm.consumers.list(env.names.stream('EVENTS')).next()) {
      await env.messaging.jsm.consumers.delete(env.names.stream('EVENTS'), c.name);
    }
    const entities = [newId(), newId(), newId()];
    await writeEvents(entities, 45);
    expect(await runVictim(crashAt)).toBe(9);
    // the survivor takes over the same durable and schema
    const survivor = buildAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: counterProjection,
      logger,
      ackWaitMs: 1000,
    });
    await survivor.start();
    const replay = buildAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: counterProjection,
      logger,
      schema: `${schema}_replay_${crashAt.toLowerCase()}`,
      durable: `replay-${crashAt}`,
    });
    await replay.start();
    const info = await env.messaging.jsm.streams.info(env.names.stream('EVENTS'));
    await eventually(() =>
      survivor.position >= info.state.last_seq && replay.position >= info.state.last_seq ? true : undefined,
    );
    await survivor.stop();
    await replay.stop();
    const live = await counters(schema);
    expect(live).toEqual(await counters(`${schema}_replay_${crashAt.toLowerCase()}`));
    const all = live.filter((r) => entities.includes(r.id));
    expect(all.map((r) => r.applied)).toEqual([15, 15, 15]);
  },
  30_000,
);

/**
 * What asynchronous commit (the aggregator's leadership connection) relies on: a Postgres crash that
 * loses the last commits also ends that connection; the instance stops folding (onFatal), and the
 * next one resumes from the checkpoint Postgres kept, folding the lost events again, each once.
 */
test('commits a Postgres crash lost are folded again: the dropped connection stops the aggregator, the next resumes from the kept checkpoint', async () => {
  const schema = env.names.schema('lost');
  const entities = [newId(), newId()];
  const mine = async () => (await counters(schema)).filter((r) => entities.includes(r.id));
  const caughtUp = async (agg: { position: number }) => {
    const info = await env.messaging.jsm.streams.info(env.names.stream('EVENTS'));
    await eventually(() => (agg.position >= info.state.last_seq ? true : undefined));
  };
  const build = (onFatal?: (err: unknown) => void) =>
    buildAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: counterProjection,
      logger,
      durable: 'lost',
      schema,
      hooks: { onFatal },
    });
  let fatal: (err: unknown) => void = () => undefined;
  const died = new Promise<unknown>((resolve) => (fatal = resolve));
  const first = build((err) => fatal(err));
  await first.start();
  const before = await writeEvents(entities, 10);
  await caughtUp(first);
  const { rows } = await env.pool.query<{ position: string }>(`SELECT position FROM "${schema}".checkpoints`);
  const kept = Number(rows[0]!.position);
  await env.pool.query(`CREATE TABLE "${schema}".kept AS SELECT * FROM "${schema}".counters`);
  const after = await writeEvents(entities, 10);
  await caughtUp(first);
  expect((await mine()).map((r) => r.applied)).toEqual([10, 10]);

  // the crash: every connection ends, the leadership one too…
  const lockKey = `devpie-aggregator:${schema}:${env.names.durable('lost')}`;
  const terminated = await env.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 1
        AND objid::bigint = (hashtext($1)::bigint & 4294967295)`,
    [lockKey],
  );
  expect(terminated.rowCount).toBe(1);
  expect(await died).toBeInstanceOf(Error);
  await first.stop();
  // …and recovery ends before the commits after `kept`: views, checkpoint and outcomes as they were
  await env.pool.query(`BEGIN;
    DELETE FROM "${schema}".counters;
    INSERT INTO "${schema}".counters SELECT * FROM "${schema}".kept;
    UPDATE "${schema}".checkpoints SET position = ${kept};
    DELETE FROM "${schema}".command_outcomes WHERE position > ${kept};
    COMMIT`);
  expect((await mine()).map((r) => r.applied)).toEqual([5, 5]);

  const next = build();
  await next.start();
  await caughtUp(next);
  await next.stop();
  const folded = await mine();
  expect(folded.map((r) => r.applied)).toEqual([10, 10]);
  expect(folded.reduce((sum, r) => sum + r.sum, 0)).toBe(before + after);
  const { rows: outcomes } = await env.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM "${schema}".command_outcomes WHERE entity = ANY($1)`,
    [entities.map((id) => env.names.entity('projects', id).slice(env.names.root.length))],
  );
  expect(Number(outcomes[0]!.n)).toBe(20);
});

test('a fresh aggregator over an existing stream catches up to the live view; a poison event is parked', async () => {
  const entities = [newId(), newId()];
  const live = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    durable: 'live',
    schema: env.names.schema('live'),
  });
  await live.start();
  await writeEvents(entities, 30);
  // a message in EVENTS that no contract accepts: parked, and the stream moves on
  await env.messaging.js.publish(
    env.names.entity('projects', entities[0]!),
    JSON.stringify({ id: newId(), type: 'Bogus' }),
  );
  await writeEvents(entities, 10);
  const info = await env.messaging.jsm.streams.info(env.names.stream('EVENTS'));
  await eventually(() => (live.position >= info.state.last_seq ? true : undefined));
  const fresh = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    durable: 'fresh',
    schema: env.names.schema('fresh'),
  });
  await fresh.start();
  await eventually(() => (fresh.position >= info.state.last_seq ? true : undefined));
  await Promise.all([live.stop(), fresh.stop()]);
  const a = await counters(env.names.schema('live'));
  expect(a).toEqual(await counters(env.names.schema('fresh')));
  expect(a.filter((r) => entities.includes(r.id)).map((r) => r.applied)).toEqual([20, 20]);
  const parked = await listParked(env.messaging, env.names.durable('live'));
  expect(parked).toHaveLength(1);
  expect(parked[0]).toMatchObject({
    errorName: 'ValidationError',
    subject: env.names.entity('projects', entities[0]!),
  });
});

test('command outcomes are recorded with the view change, and a notice follows the commit', async () => {
  const agg = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    durable: 'outcomes',
    schema: env.names.schema('outcomes'),
  });
  await agg.start();
  const notices: unknown[] = [];
  const sub = env.messaging.nc.subscribe(env.names.notice('counters'), {
    callback: (_e, m) => {
      notices.push(m.json());
    },
  });
  const c = buildComponent({ messaging: env.messaging, decider: counterDecider, name: 'outcomes-c', logger });
  const projectId = newId();
  const ok = envelope('Increment', { projectId, by: 2 }, { userId: null });
  const close = envelope('Close', { projectId }, { userId: null });
  const late = envelope('Increment', { projectId, by: 2 }, { userId: null });
  for (const cmd of [ok, close, late]) await c.handle(cmd);
  const rows = await eventually(async () => {
    const r = await env.pool.query(
      `SELECT command_id, status, reason FROM "${env.names.schema('outcomes')}".command_outcomes WHERE command_id = ANY($1) ORDER BY position`,
      [[ok.id, close.id, late.id]],
    );
    return r.rowCount === 3 ? r.rows : undefined;
  });
  expect(rows).toEqual([
    { command_id: ok.id, status: 'accepted', reason: null },
    { command_id: close.id, status: 'accepted', reason: null },
    { command_id: late.id, status: 'rejected', reason: 'InvalidTransition' },
  ]);
  await eventually(() =>
    notices.some((n) =>
      (n as { commands: { commandId: string }[] }).commands.some((x) => x.commandId === late.id),
    )
      ? true
      : undefined,
  );
  sub.unsubscribe();
  await agg.stop();
});

test('a command id reused on other entities records the first outcome, in one batch or across batches, and parks nothing', async () => {
  const schema = env.names.schema('reused_ids');
  const lines: LogLine[] = [];
  const batches: number[][] = [];
  const refolds = () => lines.filter((l) => l.msg.includes('folding again with upserts')).length;
  const agg = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger: capturing(lines),
    durable: 'reused-ids',
    schema,
    hooks: { afterCommit: (seqs) => void batches.push(seqs) },
  });
  const commandId = newId();
  const [a, b, c] = [newId(), newId(), newId()];
  const publish = async (projectId: string) => {
    const e = envelope(
      'Incremented',
      { projectId, by: 1, total: 1 },
      { userId: null, causationId: commandId },
    );
    return (await env.messaging.js.publish(env.names.entity('projects', projectId), encode(e))).seq;
  };
  // a and b before the aggregator starts: most likely one batch, where only a's outcome is inserted
  const before = await publish(a);
  const first = await publish(b);
  await agg.start();
  try {
    await eventually(() => (agg.position >= first ? true : undefined));
    const together = batches.some((seqs) => seqs.includes(before) && seqs.includes(first));
    expect(refolds()).toBe(together ? 0 : 1);
    // c once a's outcome is committed: its insert breaks the key, and the batch is folded again
    const last = await publish(c);
    await eventually(() => (agg.position >= last ? true : undefined));
  } finally {
    await agg.stop();
  }
  expect(refolds()).toBe(batches.some((seqs) => seqs.includes(before) && seqs.includes(first)) ? 1 : 2);
  expect(lines.filter((l) => l.msg.includes('batch failed'))).toEqual([]);
  const { rows } = await env.pool.query<{ entity: string }>(
    `SELECT entity FROM "${schema}".command_outcomes WHERE command_id = $1`,
    [commandId],
  );
  expect(rows.map((r) => r.entity)).toEqual([env.names.entity('projects', a).slice(env.names.root.length)]);
  expect((await counters(schema)).filter((r) => [a, b, c].includes(r.id))).toHaveLength(3);
  const parked = await listParked(env.messaging, env.names.durable('reused-ids'));
  expect(parked.filter((p) => [a, b, c].some((id) => p.subject.endsWith(id)))).toEqual([]);
});

test('deliveries lost in flight, then JetStream unavailable while the consumer is recreated: it retries and catches up', async () => {
  const entities = [newId(), newId()];
  await writeEvents(entities, 20);
  const last = (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;
  const lines: LogLine[] = [];
  let dropped = false;
  let failingAdds = 0;
  const boundWhileRecreating: boolean[] = [];
  // one delivery never reaches the aggregator; the two consumer creations after it time out
  const lossy = (messages: ConsumerMessages) => ({
    stop: (err?: Error) => messages.stop(err),
    closed: () => messages.closed(),
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for await (const msg of messages) {
        if (!dropped && ++n === 5) {
          dropped = true;
          failingAdds = 2;
          continue;
        }
        yield msg;
      }
    },
  });
  const { js, jsm } = env.messaging;
  const messaging: Messaging = {
    ...env.messaging,
    js: new Proxy(js, {
      get: (target, p) =>
        p === 'consumers'
          ? {
              get: async (stream: string, name: string) => {
                const consumer = await js.consumers.get(stream, name);
                return { consume: async (o: ConsumeOptions) => lossy(await consumer.consume(o)) };
              },
            }
          : Reflect.get(target, p),
    }),
    jsm: new Proxy(jsm, {
      get: (target, p) =>
        p === 'consumers'
          ? new Proxy(jsm.consumers, {
              get: (consumers, q) => {
                if (q === 'add' && failingAdds > 0) {
                  return () => {
                    failingAdds--;
                    boundWhileRecreating.push(agg.bound);
                    return Promise.reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
                  };
                }
                const v = Reflect.get(consumers, q) as unknown;
                return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(consumers) : v;
              },
            })
          : Reflect.get(target, p),
    }),
  };
  const schema = env.names.schema('lossy');
  const agg = buildAggregator({
    messaging,
    pool: env.pool,
    projection: counterProjection,
    logger: capturing(lines),
    durable: 'lossy',
    schema,
  });
  await agg.start();
  try {
    await eventually(() => (agg.position >= last ? true : undefined), 20_000);
  } finally {
    await agg.stop();
  }
  expect(dropped).toBe(true);
  expect(lines.filter((l) => l.msg.includes('deliveries lost in flight'))).toHaveLength(1);
  expect(lines.filter((l) => l.msg.includes('consumer not recreated'))).toHaveLength(2);
  expect(boundWhileRecreating).toEqual([false, false]); // not ready while it consumes nothing
  const mine = (await counters(schema)).filter((r) => entities.includes(r.id));
  expect(mine.map((r) => r.applied)).toEqual([10, 10]);
});

test('an event whose causation id is not a command id (not a uuid) is folded, with no outcome, and stops nothing', async () => {
  const schema = env.names.schema('odd_causation');
  const lines: LogLine[] = [];
  const agg = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger: capturing(lines),
    durable: 'odd-causation',
    schema,
  });
  const [odd, next] = [newId(), newId()];
  const commandId = newId();
  const publish = async (projectId: string, causationId: string) => {
    // what the envelope's contract allows a causation id to be: any short string
    const e = envelope('Incremented', { projectId, by: 1, total: 1 }, { userId: null, causationId });
    return (await env.messaging.js.publish(env.names.entity('projects', projectId), encode(e))).seq;
  };
  await agg.start();
  try {
    await publish(odd, 'made-by-hand');
    const last = await publish(next, commandId);
    await eventually(() => (agg.position >= last ? true : undefined), 10_000);
  } finally {
    await agg.stop();
  }
  expect(lines.filter((l) => l.msg.includes('batch failed'))).toEqual([]);
  expect((await counters(schema)).filter((r) => [odd, next].includes(r.id))).toHaveLength(2);
  const entity = (id: string) => env.names.entity('projects', id).slice(env.names.root.length);
  const { rows } = await env.pool.query<{ command_id: string }>(
    `SELECT command_id FROM "${schema}".command_outcomes WHERE entity = ANY($1)`,
    [[entity(odd), entity(next)]],
  );
  expect(rows).toEqual([{ command_id: commandId }]);
  const parked = await listParked(env.messaging, env.names.durable('odd-causation'));
  expect(parked.filter((p) => [odd, next].some((id) => p.subject.endsWith(id)))).toEqual([]);
});

test('a start that fails after taking the leadership lock gives the lock back, with its connection', async () => {
  const schema = env.names.schema('failed_start');
  // closed: the consumer cannot be made, once the lock is taken
  const closed = await env.connect('failed-start');
  await closed.nc.close();
  const pool = createPool(TEST_DATABASE_URL, 3);
  const build = (messaging: Messaging, p: typeof pool) =>
    buildAggregator({
      messaging,
      pool: p,
      projection: counterProjection,
      logger,
      durable: 'failed-start',
      schema,
    });
  const failing = build(closed, pool);
  await expect(failing.start()).rejects.toThrow();
  expect(failing.bound).toBe(false);
  // nothing left checked out: the session that held the lock went back to the pool, unlocked
  expect(pool.totalCount - pool.idleCount).toBe(0);
  await pool.end();
  // the same views and durable: this start takes the lock (it would wait for it for good otherwise)
  const next = build(env.messaging, env.pool);
  await next.start();
  expect(next.bound).toBe(true);
  await next.stop();
});
