/**
 * `devpie replay` under load: writers through a real component, a live aggregator folding, a
 * rebuild switched in while the writes go on, and the checks that nothing was lost or doubled.
 * Shared by the replay tests (a live aggregator with and without its row cache), each in its own
 * namespace.
 */
import {
  buildAggregator,
  buildComponent,
  envelope,
  newId,
  subscribeNotices,
  type Aggregator,
  type Logger,
  type Notice,
} from '@devpie/client-events';
import { eventually, type TestEnv } from '@devpie/client-events/testing';
import { counterDecider, counterProjection } from '../../../common-events/test/fixtures/counter';
import { replayAggregator, type ReplayProgress } from '../src/replay';

export function replayHarness(env: TestEnv, logger: Logger) {
  type Row = { id: string; sum: number; applied: number; position: number };
  async function counters(schema: string): Promise<Row[]> {
    const { rows } = await env.pool.query<{ id: string; doc: Omit<Row, 'id'> }>(
      `SELECT id, doc FROM "${schema}".counters ORDER BY id`,
    );
    return rows.map((r) => ({ id: r.id, ...r.doc }));
  }
  const schemaExists = async (schema: string) =>
    (await env.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

  /** One sequential writer per counter through a real component; counts what it wrote. */
  function writers(entities: string[]) {
    const component = buildComponent({
      messaging: env.messaging,
      decider: counterDecider,
      name: 'writer',
      logger,
    });
    const expected = new Map(entities.map((e) => [e, { sum: 0, applied: 0 }]));
    let stopped = false;
    let written = 0;
    const one = async (id: string, i: number) => {
      const by = (i % 7) + 1;
      await component.handle(envelope('Increment', { projectId: id, by }, { userId: null }));
      const e = expected.get(id)!;
      e.sum += by;
      e.applied += 1;
      written++;
    };
    return {
      expected,
      get written() {
        return written;
      },
      /** `n` increments per counter, as fast as the component goes. */
      burst: (n: number) =>
        Promise.all(
          entities.map(async (id) => {
            for (let i = 0; i < n; i++) await one(id, i);
          }),
        ),
      /** Keeps writing (a few ms apart) until `stop()`. */
      continuous() {
        const loops = entities.map(async (id) => {
          for (let i = 0; !stopped; i++) {
            await one(id, i);
            await new Promise((r) => setTimeout(r, 2));
          }
        });
        return {
          stop: async () => {
            stopped = true;
            await Promise.all(loops);
          },
        };
      },
    };
  }

  /** Rebuilds the counters views while writes go on and `live` folds, and checks the result. */
  async function switchUnderLoad(live: Aggregator) {
    const entities = Array.from({ length: 12 }, () => newId());
    const w = writers(entities);
    await w.burst(100); // 1,200 events before the rebuild starts
    await eventually(() => (live.position >= 1200 ? true : undefined));

    const notices: Notice[] = [];
    const listening = subscribeNotices(env.messaging, 'counters', (n) => notices.push(n));
    const ongoing = w.continuous();
    const progress: ReplayProgress[] = [];
    const writtenBefore = w.written;
    const result = await replayAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: counterProjection,
      logger,
      tag: '20260101000000',
      maxBatch: 200,
      progressEveryMs: 20,
      onProgress: (p) => progress.push(p),
    });
    const writtenDuringReplay = w.written - writtenBefore;
    await new Promise((r) => setTimeout(r, 300)); // writes go on after the switch
    await ongoing.stop();
    const writtenAfterSwitch = w.written - writtenBefore - writtenDuringReplay;
    listening.close();

    const schema = env.names.schema('counters');
    expect(result).toMatchObject({
      schema,
      oldSchema: `${schema}_old_20260101000000`,
      droppedOld: false,
      resolvedParked: [],
      parkedByRebuild: [],
    });
    expect(result.position).toBeGreaterThanOrEqual(result.livePosition);
    expect(result.livePosition).toBeGreaterThanOrEqual(1200);
    expect(writtenDuringReplay).toBeGreaterThan(0);
    expect(writtenAfterSwitch).toBeGreaterThan(0);
    expect(progress.some((p) => p.phase === 'folding')).toBe(true);
    expect(progress.some((p) => p.phase === 'switching')).toBe(true);
    expect(await schemaExists(`${schema}_r20260101000000`)).toBe(false);
    expect(await schemaExists(`${schema}_old_20260101000000`)).toBe(true);
    const consumers = await env.messaging.jsm.consumers.list(env.names.stream('EVENTS')).next();
    expect(consumers.map((c) => c.name)).not.toContain(
      env.names.durable('counters-aggregator-r20260101000000'),
    );

    // the commands the rebuild folded beyond the live position are announced, as the live would have
    const { rows: skipped } = await env.pool.query<{ command_id: string }>(
      `SELECT command_id FROM "${schema}".command_outcomes WHERE position > $1 AND position <= $2`,
      [result.livePosition, result.position],
    );
    const announced = new Set(notices.flatMap((n) => n.commands.map((c) => c.commandId)));
    for (const r of skipped) expect(announced.has(r.command_id)).toBe(true);

    // the live process (same consumer, same code) goes on folding into the rebuilt views
    const last = (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;
    await eventually(() => (live.position >= last ? true : undefined), 15_000);
    const rows = await counters(schema);
    expect(rows).toHaveLength(entities.length);
    for (const r of rows) expect({ sum: r.sum, applied: r.applied }).toEqual(w.expected.get(r.id));

    // and the result equals a rebuild from scratch that never saw a switch
    const check: Aggregator = buildAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: counterProjection,
      logger,
      schema: env.names.schema('check'),
      durable: 'check',
    });
    await check.start();
    await eventually(() => (check.position >= last ? true : undefined), 15_000);
    await check.stop();
    expect(rows).toEqual(await counters(env.names.schema('check')));

    const { rows: cp } = await env.pool.query<{ position: string }>(
      `SELECT position FROM "${schema}".checkpoints WHERE name = $1`,
      [live.durable],
    );
    expect(Number(cp[0]!.position)).toBe(live.position);
  }

  /**
   * A live aggregator (`cacheRows` as given) through a rebuild and its switch; `slowCommits`: each
   * commit holds the checkpoint lock 3 ms longer (the two-round-trip commit with its test hook),
   * otherwise the one-round-trip commit the services run.
   */
  async function liveThroughSwitch(cacheRows: number | undefined, slowCommits = true) {
    const live = buildAggregator({
      messaging: env.messaging,
      pool: env.pool,
      projection: counterProjection,
      logger,
      maxBatch: 50,
      cacheRows,
      // a slow commit: the switch has to wait for a batch in flight, and the next one waits for the switch
      hooks: slowCommits ? { beforeCommit: () => new Promise((r) => setTimeout(r, 3)) } : {},
    });
    await live.start();
    try {
      await switchUnderLoad(live);
    } finally {
      await live.stop();
    }
  }

  return { counters, schemaExists, writers, liveThroughSwitch };
}
