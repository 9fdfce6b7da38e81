import {
  buildAggregator,
  buildComponent,
  createLogger,
  envelope,
  newId,
  publishCommand,
  type Aggregator,
  type Projection,
} from '@devpie/client-events';
import {
  eventually,
  openTestEnv,
  TEST_DATABASE_URL,
  TEST_NATS_URL,
  type TestEnv,
} from '@devpie/client-events/testing';
import {
  counterCommands,
  counterDecider,
  counterProjection,
  type CounterState,
} from '../../../common-events/test/fixtures/counter';
import { run } from '../src/main';
import type { ParkedEntry } from '../src/parked';
import { replayAggregator } from '../src/replay';
import type { Status } from '../src/status';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
let component: { start(): Promise<void>; stop(): Promise<void> };
let live: Aggregator;
/** The bugs an operator fixes: the component fails on `by: 13` (until fixed), the live fold on `by: 11`. */
const broken = { component: true };

const buggyProjection: Projection = {
  ...counterProjection,
  fold(rows, event, position) {
    if ((event.data as { by?: number }).by === 11) throw new Error('fold bug: 11');
    return counterProjection.fold(rows, event, position);
  },
};

beforeAll(async () => {
  env = await openTestEnv();
  component = buildComponent({
    messaging: env.messaging,
    decider: {
      ...counterDecider,
      decide: (command: Parameters<typeof counterDecider.decide>[0], state: CounterState) => {
        if (broken.component && command.type === 'Increment' && command.data.by === 13) {
          throw new Error('component bug: 13');
        }
        return counterDecider.decide(command, state);
      },
    },
    name: 'counter-component',
    logger,
    maxDeliver: 1,
  });
  live = buildAggregator({ messaging: env.messaging, pool: env.pool, projection: buggyProjection, logger });
  await component.start();
  await live.start();
});
afterAll(async () => {
  await live.stop();
  await component.stop();
  await env.close();
});

/** Runs the CLI in this process against the test namespace; returns exit code and output. */
async function devpie(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(
    args,
    { NATS_URL: TEST_NATS_URL, DATABASE_URL: TEST_DATABASE_URL, NAMESPACE: env.names.namespace },
    { log: (l) => out.push(l), error: (l) => err.push(l) },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const json = async <T>(...args: string[]) => JSON.parse((await devpie(...args, '--json')).out) as T;
const increment = (projectId: string, by: number) =>
  publishCommand(env.messaging, counterCommands, envelope('Increment', { projectId, by }, { userId: null }));
async function counter(id: string) {
  const { rows } = await env.pool.query<{ doc: { sum: number; applied: number } }>(
    `SELECT doc FROM "${env.names.schema('counters')}".counters WHERE id = $1`,
    [id],
  );
  return rows[0]?.doc;
}

const a = newId();
const b = newId();

test('status: streams, consumers with pending counts, checkpoints with lag, parked counts', async () => {
  for (let i = 1; i <= 5; i++) await increment(a, i);
  await increment(a, 13); // the component parks it
  await increment(b, 11); // accepted; the live aggregator parks its event
  await eventually(async () =>
    (await json<ParkedEntry[]>('parked', 'list')).length === 2 ? true : undefined,
  );

  const s = await eventually(async () => {
    const st = await json<Status>('status');
    const agg = st.consumers.find((c) => c.name === live.durable);
    return agg && agg.pending + agg.ackPending === 0 && st.checkpoints[0]?.lag === 0 ? st : undefined;
  });
  const ns = env.names;
  expect(s.namespace).toBe(ns.namespace);
  expect(s.streams.find((x) => x.name === ns.stream('EVENTS'))).toMatchObject({ messages: 6, lastSeq: 6 });
  expect(s.streams.find((x) => x.name === ns.stream('COMMANDS'))).toMatchObject({ messages: 7 });
  expect(s.streams.find((x) => x.name === ns.stream('PARKED'))).toMatchObject({ messages: 2 });
  expect(s.streams.find((x) => x.name === ns.stream('EVENTS'))!.bytes).toBeGreaterThan(0);
  expect(s.consumers).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        name: ns.durable('counter-component'),
        stream: ns.stream('COMMANDS'),
        pending: 0,
        ackPending: 0,
      }),
      expect.objectContaining({ name: live.durable, stream: ns.stream('EVENTS'), pending: 0, ackPending: 0 }),
    ]),
  );
  expect(s.checkpoints).toEqual([
    expect.objectContaining({
      schema: ns.schema('counters'),
      name: live.durable,
      role: 'live',
      position: 6,
      lag: 0,
      pending: 0,
    }),
  ]);
  expect(s.parked).toEqual([
    { consumer: 'counter-component', count: 1 },
    { consumer: live.durable, count: 1 },
  ]);
  expect(s.problems).toEqual([]);

  const text = await devpie('status');
  expect(text.code).toBe(0);
  expect(text.out).toContain(ns.stream('EVENTS'));
  expect(text.out).toMatch(/parked by\s+messages/);
});

test('parked list and show tell what failed and why', async () => {
  const list = await json<(ParkedEntry & { data: string })[]>('parked', 'list');
  const command = list.find((p) => p.kind === 'command')!;
  const event = list.find((p) => p.kind === 'event')!;
  expect(command).toMatchObject({
    consumer: 'counter-component',
    subject: env.names.command('projects', a),
    stream: env.names.stream('COMMANDS'),
    error: expect.stringContaining('component bug: 13'),
  });
  expect(JSON.parse(command.data)).toMatchObject({ type: 'Increment', data: { projectId: a, by: 13 } });
  expect(event).toMatchObject({
    consumer: live.durable,
    aggregator: 'counters',
    subject: env.names.entity('projects', b),
  });

  const shown = await devpie('parked', 'show', String(command.seq));
  expect(shown.code).toBe(0);
  expect(shown.out).toContain('component bug: 13');
  expect(shown.out).toContain(`"by": 13`);
  expect((await devpie('parked', 'show', '999999')).code).toBe(4);
  expect((await devpie('parked', 'list')).out).toContain(
    `FoldError: fold failed at stream sequence ${event.originalSeq}`,
  );
});

test('parked replay: a command goes back once fixed; an event is refused with the safe path', async () => {
  const list = await json<ParkedEntry[]>('parked', 'list');
  const command = list.find((p) => p.kind === 'command')!;
  const event = list.find((p) => p.kind === 'event')!;

  const refused = await devpie('parked', 'replay', String(event.seq));
  expect(refused.code).toBe(3);
  expect(refused.err).toContain('source of truth');
  expect(refused.err).toContain('devpie replay counters');
  const eventsBefore = (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.messages;

  broken.component = false; // the fix is deployed
  const replayed = await devpie('parked', 'replay', String(command.seq));
  expect(replayed.code).toBe(0);
  expect(replayed.out).toContain(`sent back to ${env.names.command('projects', a)}`);
  await eventually(async () => ((await counter(a))?.sum === 15 + 13 ? true : undefined));
  expect((await counter(a))!.applied).toBe(6);
  expect((await devpie('parked', 'replay', String(command.seq))).code).toBe(4);
  const after = await json<ParkedEntry[]>('parked', 'list');
  expect(after.map((p) => p.seq)).toEqual([event.seq]);
  // the refused event was not appended again: only the replayed command's event is new
  expect((await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.messages).toBe(
    eventsBefore + 1,
  );

  // the safe path for the event: rebuild with the fixed fold; its parked copy is then resolved
  expect(await counter(b)).toBeUndefined();
  const result = await replayAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    progressEveryMs: 20,
  });
  expect(result.resolvedParked).toEqual([event.seq]);
  expect(result.parkedByRebuild).toEqual([]);
  expect(await counter(b)).toMatchObject({ sum: 11, applied: 1 });
  expect(await json<ParkedEntry[]>('parked', 'list')).toEqual([]);
});

test('parked discard removes a message; unknown ones are reported', async () => {
  broken.component = true;
  await increment(a, 13);
  const [p] = await eventually(async () => {
    const l = await json<ParkedEntry[]>('parked', 'list');
    return l.length === 1 ? l : undefined;
  });
  const done = await devpie('parked', 'discard', String(p!.seq));
  expect(done).toMatchObject({ code: 0, out: `discarded parked message ${p!.seq}` });
  expect(await json<ParkedEntry[]>('parked', 'list')).toEqual([]);
  expect((await devpie('parked', 'discard', String(p!.seq))).code).toBe(4);
  expect((await devpie('parked', 'replay', 'x')).code).toBe(2);
  expect((await devpie('replay', 'nope')).code).toBe(2);
});
