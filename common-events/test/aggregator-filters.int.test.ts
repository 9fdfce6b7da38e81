/**
 * An aggregator of two categories, with another category's events around and after its own. On
 * nats-server 2.10+ its consumer is filtered to its categories (`filter_subjects`) and is sent
 * nothing else; on 2.9 it is sent the whole stream and skips the rest. Either way it folds its
 * events in stream order and its checkpoint reaches the end of EVENTS. `npm test` runs this on the
 * machine's 2.9, `npm run test:nats-current` on a 2.10+.
 */
import { z } from 'zod';
import {
  buildAggregator,
  createLogger,
  encode,
  envelope,
  eventSet,
  ident,
  newId,
  type Aggregator,
  type Projection,
} from '../src';
import { takesFilterSubjects } from '../src/runtime/durable';
import { eventually, openTestEnv, type TestEnv } from '../src/testing';
import { counterEvents } from './fixtures/counter';

const logger = createLogger('test', process.env.TEST_LOG ?? 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

const teamEvents = eventSet('teams', 'teamId', {
  Pinged: z.object({ teamId: z.uuid() }).strict(),
});

/** One row: the stream sequence of every event folded, in the order folded. */
const orderProjection: Projection = {
  name: 'order',
  schema: 'order_log',
  tables: [{ name: 'log' }],
  categories: ['projects', 'teams'],
  ownCategories: ['projects', 'teams'],
  events: [counterEvents, teamEvents],
  touches: () => [{ table: 'log', id: 'all' }],
  fold(rows, _event, position) {
    const seqs = (rows.get('log', 'all')?.seqs as number[] | undefined) ?? [];
    return [{ table: 'log', id: 'all', doc: { seqs: [...seqs, position] } }];
  },
};

const projectId = newId();
const teamId = newId();
const userId = newId();

/** Appends events by category; returns the sequences of the projection's own. */
async function append(categories: ('projects' | 'teams' | 'users')[]): Promise<number[]> {
  const own: number[] = [];
  for (const category of categories) {
    const [subject, event] =
      category === 'projects'
        ? [
            env.names.entity('projects', projectId),
            envelope('Incremented', { projectId, by: 1, total: 1 }, { userId: null }),
          ]
        : category === 'teams'
          ? [env.names.entity('teams', teamId), envelope('Pinged', { teamId }, { userId: null })]
          : [env.names.entity('users', userId), envelope('Signed', { userId }, { userId: null })];
    const { seq } = await env.messaging.js.publish(subject, encode(event));
    if (category !== 'users') own.push(seq);
  }
  return own;
}

const endOfEvents = async () =>
  (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;

async function checkpointAndLog(schema: string) {
  const { rows: cp } = await env.pool.query<{ position: string }>(
    `SELECT position FROM ${ident(schema)}.checkpoints`,
  );
  const { rows: log } = await env.pool.query<{ doc: { seqs: number[] } }>(
    `SELECT doc FROM ${ident(schema)}.log WHERE id = 'all'`,
  );
  return { checkpoint: Number(cp[0]?.position ?? 0), seqs: log[0]?.doc.seqs ?? [] };
}

test('its events folded in stream order, and its checkpoint at the end of EVENTS, whatever ends it', async () => {
  const start = () => {
    const a = buildAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: orderProjection,
      logger,
      idleCheckpointMs: 50,
    });
    return a.start().then(() => a);
  };
  const caughtUp = async (a: Aggregator, end: number) =>
    eventually(async () =>
      a.position >= end && (await checkpointAndLog(a.views.schema)).checkpoint >= end ? true : undefined,
    );

  const own = await append([
    'users',
    'projects',
    'users',
    'teams',
    'users',
    'projects',
    'teams',
    'users',
    'users',
  ]);
  let end = await endOfEvents();
  let aggregator = await start();
  await caughtUp(aggregator, end);
  expect(aggregator.position).toBe(end);
  expect(await checkpointAndLog(aggregator.views.schema)).toEqual({ checkpoint: end, seqs: own });

  const stream = env.names.stream('EVENTS');
  const consumer = await env.messaging.jsm.consumers.info(stream, aggregator.durable);
  const filtered = takesFilterSubjects(env.messaging.nc.info?.version);
  if (filtered) {
    expect(consumer.config.filter_subjects).toEqual([
      env.names.categoryEvents('projects'),
      env.names.categoryEvents('teams'),
    ]);
    expect(consumer.delivered.consumer_seq).toBe(own.length); // the users events never sent
  } else {
    expect(consumer.config.filter_subject).toBe(env.names.allEvents());
    expect(consumer.delivered.consumer_seq).toBe(end);
  }

  // stopped, then more events, the last of them not its own: a new instance goes on to the end
  await aggregator.stop();
  own.push(...(await append(['users', 'teams', 'users', 'users'])));
  end = await endOfEvents();
  aggregator = await start();
  await caughtUp(aggregator, end);
  expect(await checkpointAndLog(aggregator.views.schema)).toEqual({ checkpoint: end, seqs: own });

  // and live: its own event after the end it reached
  own.push(...(await append(['projects'])));
  end = await endOfEvents();
  await caughtUp(aggregator, end);
  expect(await checkpointAndLog(aggregator.views.schema)).toEqual({ checkpoint: end, seqs: own });
  await aggregator.stop();
});
