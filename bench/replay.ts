/** 5. Replay: a fresh projects aggregator catching up over a long EVENTS stream. */
import {
  buildAggregator,
  createLogger,
  createPool,
  DEFAULT_COLUMNS,
  encode,
  envelope,
  newId,
  type Envelope,
} from '@devpie/client-events';
import { TEST_DATABASE_URL, type TestEnv } from '@devpie/client-events/testing/servers';
import { projectsProjection } from '@devpie/projects-aggregator';
import { cpuLine, cpuMark, cpuSince, fmt, rate, seconds, sleep, windowed, type Rate } from './ceilings';
import { CONTENT } from './mix';
import type { Options } from './options';
import { lastEventSeq } from './system';

export interface ReplayResult {
  generated: number;
  generate: Rate;
  events: number;
  run: Rate;
  /** the bench process's RSS as the catch-up starts: its earlier phases, heap not yet handed back */
  startRssMiB: number;
  peakRssMiB: number;
  maxRssMiB: number;
  /** Who spent the catch-up's CPU (the fold is this process; the commits are Postgres). */
  cpu: string;
}

/** Projects events for many small boards (ProjectAdded + 9 TaskAdded), published straight to EVENTS. */
async function generateEvents(env: TestEnv, opts: Options, count: number): Promise<Rate> {
  const perBoard = 10;
  const boards = Math.ceil(count / perBoard);
  const ownerId = newId();
  const t = performance.now();
  await windowed(boards, Math.max(1, Math.floor(opts.window / perBoard)), async (b) => {
    const projectId = newId();
    const subject = env.names.entity('projects', projectId);
    const columns = DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title }));
    const events: Envelope[] = [
      envelope(
        'ProjectAdded',
        {
          projectId,
          ownerId,
          teamId: null,
          name: `Replay ${b}`,
          description: 'generated for the replay bench',
          prefix: `R${b % 100_000}`,
          public: false,
          columns,
        },
        { userId: ownerId, causationId: newId() },
      ),
    ];
    for (let i = 1; i < perBoard; i++) {
      events.push(
        envelope(
          'TaskAdded',
          {
            projectId,
            columnId: columns[i % columns.length]!.columnId,
            taskId: newId(),
            key: `R-${i}`,
            number: i,
            title: `Task ${i}`,
            content: CONTENT,
            assigneeId: null,
            index: Math.floor((i - 1) / columns.length),
          },
          { userId: ownerId, causationId: newId() },
        ),
      );
    }
    // one board's events in order, boards in parallel
    for (const e of events) await env.messaging.js.publish(subject, encode(e), { msgID: e.id });
  });
  return rate(boards * perBoard, seconds(t));
}

export async function replay(env: TestEnv, opts: Options): Promise<ReplayResult> {
  const existing = await lastEventSeq(env);
  const toGenerate = Math.max(0, opts.replayEvents - existing);
  console.error(`replay: generating ${fmt(toGenerate)} events…`);
  const generate = await generateEvents(env, opts, toGenerate);
  const last = await lastEventSeq(env);
  const messaging = await env.connect('bench-replay');
  const pool = createPool(TEST_DATABASE_URL);
  const aggregator = buildAggregator({
    messaging,
    pool,
    projection: projectsProjection,
    logger: createLogger('bench-replay', process.env.LOG_LEVEL ?? 'warn'),
    schema: env.names.schema('projects_replay'),
    durable: 'projects-replay',
    notices: false,
    maxBatch: 1000, // as `devpie replay` folds
  });
  console.error(`replay: a fresh aggregator over ${fmt(last)} events…`);
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const cpu0 = cpuMark();
  const t = performance.now();
  try {
    await aggregator.start();
    let lastPos = -1;
    let lastChange = Date.now();
    while (aggregator.position < last) {
      await sleep(20);
      if (aggregator.position !== lastPos) {
        lastPos = aggregator.position;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > 60_000) throw new Error(`replay stalled at ${lastPos} of ${last}`);
    }
  } finally {
    clearInterval(sampler);
  }
  const run = rate(last, seconds(t));
  const cpu = cpuLine(cpuSince(cpu0));
  await aggregator.stop();
  await pool.end();
  return {
    generated: generate.count,
    generate,
    events: last,
    run,
    startRssMiB: start / 1024 / 1024,
    peakRssMiB: peak / 1024 / 1024,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    cpu,
  };
}
