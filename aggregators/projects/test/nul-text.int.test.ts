/**
 * Postgres stores neither a NUL character nor a lone surrogate in `jsonb`: an event whose text held
 * one, folded into a board, would fail its batch on every attempt and stop the projects views. The contract
 * refuses it, so such an event (written past the contract, or before it said so) is parked and
 * the board's next events are folded.
 */
import {
  buildAggregator,
  createLogger,
  DEFAULT_COLUMNS,
  encode,
  envelope,
  listParked,
  newId,
  type Envelope,
} from '@devpie/client-events';
import { eventually, openTestEnv, type TestEnv } from '@devpie/client-events/testing';
import { projectsProjection } from '../src';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

test('tasks whose titles hold a NUL or a lone surrogate are parked; the board folds on without them', async () => {
  const projectId = newId();
  const ownerId = newId();
  const columns = DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title }));
  const origin = { userId: ownerId };
  const task = (title: string, number: number) =>
    envelope(
      'TaskAdded',
      {
        projectId,
        columnId: columns[0]!.columnId,
        taskId: newId(),
        key: `P-${number}`,
        number,
        title,
        content: '',
        assigneeId: null,
        index: number - 1,
      },
      origin,
    );
  const events: Envelope[] = [
    envelope(
      'ProjectAdded',
      {
        projectId,
        ownerId,
        teamId: null,
        name: 'Board',
        description: '',
        prefix: 'P',
        public: false,
        columns,
      },
      origin,
    ),
    task('bad \u0000 title', 1),
    task('bad \ud800 title', 1),
    task('good title', 1),
  ];
  const subject = env.names.entity('projects', projectId);
  let last = 0;
  for (const e of events) last = (await env.messaging.js.publish(subject, encode(e))).seq;

  const aggregator = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: projectsProjection,
    logger: createLogger('test', process.env.TEST_LOG ?? 'silent'),
    schema: env.names.schema('nul_text'),
  });
  await aggregator.start();
  try {
    await eventually(() => (aggregator.position >= last ? true : undefined), 15_000);
  } finally {
    await aggregator.stop();
  }
  const parked = await listParked(env.messaging, env.names.durable('projects-aggregator'));
  expect(parked.map((p) => [p.subject, p.errorName])).toEqual([
    [subject, 'ValidationError'],
    [subject, 'ValidationError'],
  ]);
  const { rows } = await env.pool.query<{ doc: { title: string } }>(
    `SELECT doc FROM "${env.names.schema('nul_text')}".tasks WHERE id LIKE $1`,
    [`${projectId}/%`],
  );
  expect(rows.map((r) => r.doc.title)).toEqual(['good title']);
});
