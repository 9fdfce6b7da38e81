/**
 * `npm run bench`: the system's benchmark on the machine's real NATS and Postgres, in a private
 * namespace (openTestEnv) removed at the end, even on error. Each figure is printed beside its
 * target (DESIGN.md, issue 8) as PASS or FAIL; bench/results/latest.json keeps the whole run.
 *
 *   npm run bench -- [--quick] [--commands N] [--replay N] [--hydration N] [--loads 200,1000,3000]
 *                    [--latency-seconds S] [--seed N]
 *
 * 1. Ceilings (bench/ceilings.ts): JetStream acked publish, durable consume + ack, ordered replay,
 *    Postgres jsonb upsert.
 * 2. Pipeline: a mix of identity, projects and estimation commands published straight to COMMANDS
 *    (256 in flight) while the three components and the three aggregators run in this process;
 *    commands/s from the first publish until every command has its outcome and every aggregator's
 *    position has reached the last sequence of EVENTS.
 * 3. Latency: the same mix offered at fixed rates; command published → the aggregator's notice that
 *    its outcome is committed in the view (notices' commands[].commandId).
 * 5. Replay: a fresh projects aggregator catching up over EVENTS after ≥ N generated events.
 * 6. Hydration: deciding one command on a project with N prior events, cold (fresh EntityStore:
 *    snapshot + tail) and warm (cached).
 * 3b/4. HTTP (bench/http.ts): `Prefer: wait` latency and autocannon ingress against the three apps.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildAggregator,
  buildComponent,
  createLogger,
  createPool,
  DEFAULT_COLUMNS,
  encode,
  EntityStore,
  envelope,
  estimateCommands,
  ident,
  newId,
  projectCommands,
  publishCommand,
  subscribeNotices,
  teamCommands,
  userCommands,
  type AnyMessageSet,
  type Aggregator,
  type Envelope,
  type ProjectCommand,
} from '@devpie/client-events';
import { openTestEnv, TEST_DATABASE_URL, type TestEnv } from '@devpie/client-events/testing/servers';
import { buildIdentityComponent } from '@devpie/identity-component';
import { buildProjectsComponent, projectDecider } from '@devpie/projects-component';
import { buildEstimationComponent } from '@devpie/estimation-component';
import { identityProjection } from '@devpie/identity-aggregator';
import { projectsProjection } from '@devpie/projects-aggregator';
import { estimationProjection } from '@devpie/estimation-aggregator';
import {
  cpuLine,
  cpuMark,
  cpuSince,
  fmt,
  natsCeilings,
  postgresCeilings,
  random,
  rate,
  seconds,
  sleep,
  windowed,
  type Ceilings,
  type Rate,
} from './ceilings';
import { httpBench, type HttpResult } from './http';
import { percentiles, type Percentiles } from './percentiles';

// ---------------------------------------------------------------------------------------------
// options

interface Options {
  quick: boolean;
  seed: number;
  window: number;
  commands: number;
  replayEvents: number;
  hydrationEvents: number;
  loads: number[];
  latencySeconds: number;
  http: { waitRequests: number; seconds: number; connections: number };
  sizes: { publishSerial: number; publishWindowed: number; upsertBatches: number; upsertSingle: number };
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      commands: { type: 'string' },
      replay: { type: 'string' },
      hydration: { type: 'string' },
      loads: { type: 'string' },
      'latency-seconds': { type: 'string' },
      'http-seconds': { type: 'string' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run bench -- [--quick] [--commands N] [--replay N] [--hydration N]\n' +
        '                        [--loads 200,1000,3000] [--latency-seconds S] [--http-seconds S] [--seed N]',
    );
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  // `npm run bench --quick` (without `--`) reaches the script as npm_config_quick, not as an argument
  const quick = values.quick || process.env.npm_config_quick === 'true';
  const loads = (values.loads ?? (quick ? '200,1000' : '200,1000,3000')).split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error('--loads: a comma-separated list of commands/s');
    return n;
  });
  return {
    quick,
    seed: int('seed', values.seed, 1, 0),
    window: 256,
    commands: int('commands', values.commands, quick ? 6_000 : 60_000, 100),
    replayEvents: int('replay', values.replay, quick ? 50_000 : 1_000_000, 1_000),
    hydrationEvents: int('hydration', values.hydration, quick ? 2_000 : 10_000, 10),
    loads,
    latencySeconds: int('latency-seconds', values['latency-seconds'], quick ? 3 : 10, 1),
    http: {
      waitRequests: quick ? 50 : 300,
      seconds: int('http-seconds', values['http-seconds'], quick ? 1 : 5, 1),
      connections: 10,
    },
    sizes: quick
      ? { publishSerial: 1_000, publishWindowed: 8_000, upsertBatches: 10, upsertSingle: 500 }
      : { publishSerial: 5_000, publishWindowed: 40_000, upsertBatches: 40, upsertSingle: 3_000 },
  };
}

// ---------------------------------------------------------------------------------------------
// the command mix

/** A scrypt-shaped hash (the contract's regex); the bench never signs in. */
const PASSWORD_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g=';
const CONTENT = 'Steps to reproduce, acceptance criteria and notes. '.repeat(4).slice(0, 200);

interface Board {
  id: string;
  ownerId: string;
  columns: { columnId: string; tasks: string[] }[];
  /** Tasks with the index of the command that added them (estimates wait a little behind). */
  added: { taskId: string; at: number }[];
}

interface Generated {
  set: AnyMessageSet;
  command: Envelope;
}

/**
 * A realistic mix, valid by construction against a local model of the boards: users sign up
 * (AddUser), create teams (AddTeam), add projects (AddProject with the default columns), add,
 * move and modify tasks, set rates and estimate tasks. Estimates name tasks added ≥ 500 commands
 * earlier: the Estimation reactor must have registered them first, or the command is rejected
 * (TaskNotFound), which is still one recorded outcome, and is counted.
 */
function commandMix(seed: number) {
  const rnd = random(seed);
  const users: string[] = [];
  const boards: Board[] = [];
  let n = 0;
  let taskNumber = 0;
  const byType: Record<string, number> = {};

  const addUser = (): Generated => {
    const userId = newId();
    users.push(userId);
    return {
      set: userCommands,
      command: envelope(
        'AddUser',
        {
          userId,
          email: `bench-${userId}@example.com`,
          passwordHash: PASSWORD_HASH,
          firstName: 'Bench',
          lastName: `User ${users.length}`,
        },
        { userId: null },
      ),
    };
  };
  const someUser = () => users[rnd.int(users.length)]!;
  const addProject = (): Generated => {
    const ownerId = someUser();
    const board: Board = {
      id: newId(),
      ownerId,
      columns: DEFAULT_COLUMNS.map(() => ({ columnId: newId(), tasks: [] })),
      added: [],
    };
    boards.push(board);
    return {
      set: projectCommands,
      command: envelope(
        'AddProject',
        {
          projectId: board.id,
          name: `Board ${boards.length}`,
          description: 'A kanban board of the benchmark',
          teamId: null,
          prefix: `B${boards.length}`,
          public: false,
          columns: board.columns.map((c, i) => ({ columnId: c.columnId, title: DEFAULT_COLUMNS[i]! })),
        },
        { userId: ownerId },
      ),
    };
  };
  const addTask = (b: Board): Generated => {
    const column = b.columns[rnd.int(b.columns.length)]!;
    const taskId = newId();
    column.tasks.push(taskId);
    b.added.push({ taskId, at: n });
    return {
      set: projectCommands,
      command: envelope(
        'AddTask',
        {
          projectId: b.id,
          columnId: column.columnId,
          taskId,
          title: `Task ${++taskNumber}`,
          content: CONTENT,
          assigneeId: b.ownerId,
        },
        { userId: b.ownerId },
      ),
    };
  };

  function next(): Generated {
    const roll = rnd.next();
    let g: Generated;
    if (users.length < 5 || roll < 0.04) g = addUser();
    else if (roll < 0.06) {
      const userId = someUser();
      g = {
        set: teamCommands,
        command: envelope(
          'AddTeam',
          { teamId: newId(), name: 'A bench team', membershipId: newId() },
          { userId },
        ),
      };
    } else if (boards.length < 5 || roll < 0.1) g = addProject();
    else {
      const b = boards[rnd.int(boards.length)]!;
      const tasks = b.added.length;
      const old = b.added.filter((t) => t.at <= n - 500);
      if (tasks === 0 || roll < 0.45) g = addTask(b);
      else if (roll < 0.7) {
        const nonEmpty = b.columns.filter((c) => c.tasks.length > 0);
        const from = nonEmpty[rnd.int(nonEmpty.length)]!;
        const fromIndex = rnd.int(from.tasks.length);
        const taskId = from.tasks.splice(fromIndex, 1)[0]!;
        const to = b.columns[rnd.int(b.columns.length)]!;
        const index = rnd.int(to.tasks.length + 1);
        to.tasks.splice(index, 0, taskId);
        g = {
          set: projectCommands,
          command: envelope(
            'MoveTask',
            { projectId: b.id, taskId, toColumnId: to.columnId, index },
            {
              userId: b.ownerId,
            },
          ),
        };
      } else if (roll < 0.82 || old.length === 0) {
        const { taskId } = b.added[rnd.int(tasks)]!;
        g = {
          set: projectCommands,
          command: envelope(
            'ModifyTask',
            { projectId: b.id, taskId, changes: { title: `Renamed ${n}` } },
            { userId: b.ownerId },
          ),
        };
      } else if (roll < 0.86) {
        g = {
          set: estimateCommands,
          command: envelope(
            'SetRate',
            { projectId: b.id, hourlyRate: 9_000 + rnd.int(100) * 100, currency: 'EUR' },
            {
              userId: b.ownerId,
            },
          ),
        };
      } else {
        const { taskId } = old[rnd.int(old.length)]!;
        const likely = 1 + rnd.int(16);
        g = {
          set: estimateCommands,
          command: envelope(
            'EstimateTask',
            {
              projectId: b.id,
              taskId,
              estimate: { optimistic: likely / 2, likely, pessimistic: likely * 2 },
            },
            { userId: b.ownerId },
          ),
        };
      }
    }
    n++;
    byType[g.command.type] = (byType[g.command.type] ?? 0) + 1;
    return g;
  }
  return { next, byType, boards: () => boards.length, tasks: () => taskNumber };
}

// ---------------------------------------------------------------------------------------------
// the running system (components + aggregators, in process)

interface System {
  aggregators: Aggregator[];
  outcomes: { accepted: number; rejected: number; duplicate: number };
  parked: number;
  conflicts: number;
  /** handle() of every command (load + decide + append), ms; cleared by whoever reads it. */
  handleMs: number[];
  /** Per aggregator: batches committed, events in them, ms inside them. */
  batches: Record<string, { count: number; events: number; ms: number }>;
  stop(): Promise<void>;
}

async function startSystem(env: TestEnv): Promise<System> {
  const logger = createLogger('bench', process.env.LOG_LEVEL ?? 'warn');
  const outcomes = { accepted: 0, rejected: 0, duplicate: 0 };
  const sys = { parked: 0, conflicts: 0 };
  const handleMs: number[] = [];
  const batches: System['batches'] = {};
  const hooks = {
    onOutcome: (_t: string, o: keyof typeof outcomes, ms: number) => {
      outcomes[o]++;
      handleMs.push(ms);
    },
    onParked: () => void sys.parked++,
    onConflict: () => void sys.conflicts++,
  };
  const messaging = await env.connect('bench-components');
  const aggMessaging = await env.connect('bench-aggregators');
  const components = [
    buildIdentityComponent({ messaging, logger, hooks }),
    buildProjectsComponent({ messaging, logger, hooks }),
    buildEstimationComponent({ messaging, logger, hooks }),
  ];
  // each aggregator with its own pool, as its own process has (its leadership lock holds a connection)
  const pools = [1, 2, 3].map(() => createPool(TEST_DATABASE_URL));
  const aggregators = [identityProjection, projectsProjection, estimationProjection].map((projection, i) =>
    buildAggregator({
      messaging: aggMessaging,
      pool: pools[i]!,
      projection,
      logger,
      hooks: {
        onBatch({ size, ms }) {
          const b = (batches[projection.name] ??= { count: 0, events: 0, ms: 0 });
          b.count++;
          b.events += size;
          b.ms += ms;
        },
      },
    }),
  );
  for (const a of aggregators) await a.start();
  for (const c of components) await c.start();
  return {
    aggregators,
    outcomes,
    handleMs,
    batches,
    get parked() {
      return sys.parked;
    },
    get conflicts() {
      return sys.conflicts;
    },
    async stop() {
      for (const c of components) await c.stop();
      for (const a of aggregators) await a.stop();
      for (const p of pools) await p.end();
    },
  };
}

const lastEventSeq = async (env: TestEnv) =>
  (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;

/** Every command consumer drained, and every aggregator at the last sequence of EVENTS (twice in a row). */
async function settled(env: TestEnv, sys: System, timeoutMs: number): Promise<number> {
  const stream = env.names.stream('COMMANDS');
  const durables = ['users-component', 'teams-component', 'projects-component', 'estimates-component'];
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  for (;;) {
    let idle = true;
    for (const d of durables) {
      const i = await env.messaging.jsm.consumers.info(stream, env.names.durable(d));
      if (i.num_pending + i.num_ack_pending > 0) idle = false;
    }
    const last = await lastEventSeq(env);
    if (idle && sys.aggregators.every((a) => a.position >= last)) {
      if (++streak >= 2) return last;
    } else streak = 0;
    if (Date.now() > deadline) throw new Error(`pipeline not settled within ${timeoutMs} ms`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. pipeline

interface PipelineResult {
  commands: number;
  byType: Record<string, number>;
  publish: Rate;
  /** From the first publish until every view reflects every command. */
  run: Rate;
  outcomes: System['outcomes'];
  reactorCommands: number;
  parked: number;
  conflicts: number;
  events: number;
  viewOutcomes: Record<string, number>;
  handleMs: Percentiles;
  batches: System['batches'];
  cpu: string;
}

async function pipeline(env: TestEnv, sys: System, opts: Options): Promise<PipelineResult> {
  const mix = commandMix(opts.seed);
  const work = Array.from({ length: opts.commands }, () => mix.next());
  const before = { ...sys.outcomes };
  sys.handleMs.length = 0;
  for (const k of Object.keys(sys.batches)) delete sys.batches[k];
  const events0 = await lastEventSeq(env);
  const cpu0 = cpuMark();
  const t = performance.now();
  await windowed(work.length, opts.window, (i) =>
    publishCommand(env.messaging, work[i]!.set, work[i]!.command),
  );
  const publish = rate(work.length, seconds(t));
  const last = await settled(env, sys, 300_000);
  const run = rate(work.length, seconds(t));
  const cpu = cpuLine(cpuSince(cpu0));
  const outcomes = {
    accepted: sys.outcomes.accepted - before.accepted,
    rejected: sys.outcomes.rejected - before.rejected,
    duplicate: sys.outcomes.duplicate - before.duplicate,
  };
  const viewOutcomes: Record<string, number> = {};
  for (const p of [identityProjection, projectsProjection, estimationProjection]) {
    const { rows } = await env.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${ident(env.names.schema(p.name))}.command_outcomes`,
    );
    viewOutcomes[p.name] = Number(rows[0]!.n);
  }
  return {
    commands: work.length,
    byType: mix.byType,
    publish,
    run,
    outcomes,
    reactorCommands: outcomes.accepted + outcomes.rejected + outcomes.duplicate - work.length,
    parked: sys.parked,
    conflicts: sys.conflicts,
    events: last - events0,
    viewOutcomes,
    handleMs: percentiles(sys.handleMs),
    batches: structuredClone(sys.batches),
    cpu,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. latency at fixed offered loads

interface LatencyResult {
  offered: number;
  seconds: number;
  sent: number;
  achieved: number;
  seen: number;
  ms: Percentiles;
  /** p50 and p99 by command type (ms). */
  byType: Record<string, { count: number; p50: number; p99: number }>;
}

async function latency(env: TestEnv, sys: System, opts: Options, offered: number): Promise<LatencyResult> {
  const mix = commandMix(opts.seed + offered);
  const total = offered * opts.latencySeconds;
  const sentAt = new Map<string, number>();
  const typeOf = new Map<string, string>();
  const perType = new Map<string, number[]>();
  const samples: number[] = [];
  const watchers = [identityProjection, projectsProjection, estimationProjection].map((p) =>
    subscribeNotices(env.messaging, p.name, (notice) => {
      const now = performance.now();
      for (const c of notice.commands) {
        const at = sentAt.get(c.commandId);
        if (at === undefined) continue;
        sentAt.delete(c.commandId);
        samples.push(now - at);
        const type = typeOf.get(c.commandId) ?? '?';
        perType.set(type, [...(perType.get(type) ?? []), now - at]);
      }
    }),
  );
  await env.messaging.nc.flush();
  const publishes: Promise<unknown>[] = [];
  let sent = 0;
  let failed = 0;
  const t = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t) / 1000) * offered));
    while (sent < due) {
      const g = mix.next();
      sentAt.set(g.command.id, performance.now());
      typeOf.set(g.command.id, g.command.type);
      publishes.push(publishCommand(env.messaging, g.set, g.command).catch(() => void failed++));
      sent++;
    }
    await sleep(1);
  }
  const elapsed = seconds(t);
  await Promise.all(publishes);
  await settled(env, sys, 120_000);
  // notices are core NATS: give the last ones a moment to arrive
  const deadline = Date.now() + 2_000;
  while (samples.length < total && Date.now() < deadline) await sleep(20);
  for (const w of watchers) w.close();
  if (failed > 0) console.error(`  ${failed} publishes failed at ${offered}/s`);
  return {
    offered,
    seconds: opts.latencySeconds,
    sent,
    achieved: sent / elapsed,
    seen: samples.length,
    ms: percentiles(samples),
    byType: Object.fromEntries(
      [...perType].map(([type, v]) => {
        const p = percentiles(v);
        return [type, { count: p.count, p50: p.p50, p99: p.p99 }];
      }),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// 5. replay

interface ReplayResult {
  generated: number;
  generate: Rate;
  events: number;
  run: Rate;
  peakRssMiB: number;
  maxRssMiB: number;
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

async function replay(env: TestEnv, opts: Options): Promise<ReplayResult> {
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
  });
  console.error(`replay: a fresh aggregator over ${fmt(last)} events…`);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
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
  await aggregator.stop();
  await pool.end();
  return {
    generated: generate.count,
    generate,
    events: last,
    run,
    peakRssMiB: peak / 1024 / 1024,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

// ---------------------------------------------------------------------------------------------
// 6. hydration

interface HydrationResult {
  priorEvents: number;
  build: Rate;
  snapshotEvery: number;
  coldMs: Percentiles;
  warmMs: Percentiles;
}

async function hydration(env: TestEnv, opts: Options): Promise<HydrationResult> {
  const logger = createLogger('bench-hydration', process.env.LOG_LEVEL ?? 'warn');
  const component = buildComponent({
    messaging: env.messaging,
    decider: projectDecider,
    name: 'bench-hydration',
    logger,
  });
  const ownerId = newId();
  const projectId = newId();
  const columns = DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title }));
  const origin = { userId: ownerId };
  const cmd = (c: ProjectCommand) => c;
  await component.handle(
    cmd(
      envelope(
        'AddProject',
        {
          projectId,
          name: 'Hydration',
          description: 'long history',
          teamId: null,
          prefix: 'H',
          public: false,
          columns,
        },
        origin,
      ),
    ),
  );
  const taskId = newId();
  await component.handle(
    cmd(
      envelope(
        'AddTask',
        {
          projectId,
          columnId: columns[0]!.columnId,
          taskId,
          title: 'A busy task',
          content: CONTENT,
          assigneeId: null,
        },
        origin,
      ),
    ),
  );
  console.error(`hydration: ${fmt(opts.hydrationEvents)} events on one project…`);
  const t = performance.now();
  for (let i = 2; i < opts.hydrationEvents; i++) {
    const c =
      i % 2 === 0
        ? envelope('ModifyTask', { projectId, taskId, changes: { title: `Busy ${i}` } }, origin)
        : envelope(
            'MoveTask',
            { projectId, taskId, toColumnId: columns[i % columns.length]!.columnId, index: 0 },
            origin,
          );
    const r = await component.handle(cmd(c));
    if (r.outcome !== 'accepted') throw new Error(`hydration setup: ${c.type} ${r.outcome}`);
  }
  const build = rate(opts.hydrationEvents, seconds(t));
  await sleep(500); // the last snapshot is written in the background
  const probe = () =>
    envelope('ModifyTask', { projectId, taskId, changes: { title: 'probe' } }, origin) as ProjectCommand;
  const decideOn = async (store: EntityStore<ReturnType<typeof projectDecider.initialState>>) => {
    const t0 = performance.now();
    const entity = await store.load(projectId);
    projectDecider.decide(probe(), entity.state);
    return performance.now() - t0;
  };
  const cold: number[] = [];
  const warm: number[] = [];
  const rounds = opts.quick ? 5 : 11;
  for (let r = 0; r < rounds; r++) {
    const store = new EntityStore(env.messaging, projectDecider as never) as EntityStore<
      ReturnType<typeof projectDecider.initialState>
    >;
    cold.push(await decideOn(store));
    for (let w = 0; w < 20; w++) warm.push(await decideOn(store));
  }
  return {
    priorEvents: opts.hydrationEvents,
    build,
    snapshotEvery: 200,
    coldMs: percentiles(cold),
    warmMs: percentiles(warm),
  };
}

// ---------------------------------------------------------------------------------------------
// report

interface Row {
  section: string;
  figure: string;
  value: number;
  unit: string;
  target?: { op: '≥' | '≤'; value: number; unit?: string };
  pass?: boolean;
}

function row(section: string, figure: string, value: number, unit: string, target?: Row['target']): Row {
  const pass =
    target === undefined ? undefined : target.op === '≥' ? value >= target.value : value <= target.value;
  return { section, figure, value, unit, target, pass };
}

function printTable(rows: Row[]) {
  const num = (v: number, unit: string) =>
    `${fmt(v, unit === 'ms' && v < 10 ? 2 : unit === '%' || unit === 'ms' ? 1 : 0)} ${unit}`.padStart(14);
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      console.log(`\n  ${section}`);
    }
    const target = r.target ? `${r.target.op} ${fmt(r.target.value)} ${r.target.unit ?? r.unit}` : '';
    const verdict = r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL';
    console.log(`    ${r.figure.padEnd(60)} ${num(r.value, r.unit)}  ${target.padEnd(16)} ${verdict}`);
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = readOptions();
  const started = performance.now();
  const env = await openTestEnv();
  let sys: System | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (sys) await Promise.race([sys.stop(), sleep(10_000)]).catch((e: unknown) => console.error(e));
      await env.close();
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: removing namespace ${env.names.namespace}`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: Row[] = [];
  const problems: string[] = [];
  try {
    console.error(`namespace ${env.names.namespace}: ceilings…`);
    const cleanups: (() => Promise<void>)[] = [];
    const cpu0 = cpuMark();
    const ceilings: Ceilings = {
      messageBytes: 800,
      ...(await natsCeilings(env, opts, cleanups)),
      ...(await postgresCeilings(env, opts)),
      cpu: cpuSince(cpu0),
    };
    for (const c of cleanups) await c();
    const C = '1. ceilings (800-byte messages)';
    rows.push(row(C, 'JetStream acked publish, one at a time', ceilings.publishSerial.perSecond, 'msg/s'));
    rows.push(row(C, 'JetStream acked publish, 256 in flight', ceilings.publishWindowed.perSecond, 'msg/s'));
    rows.push(
      row(C, '  + Nats-Msg-Id + expected last subject seq', ceilings.publishWindowedOcc.perSecond, 'msg/s'),
    );
    rows.push(row(C, 'JetStream durable consume + ack', ceilings.durableConsume.perSecond, 'msg/s'));
    rows.push(row(C, 'JetStream ordered replay', ceilings.orderedReplay.perSecond, 'msg/s'));
    rows.push(row(C, 'Postgres jsonb upsert, batches of 500', ceilings.upsertBatched.perSecond, 'rows/s'));
    rows.push(
      row(C, 'Postgres jsonb upsert, one row per transaction', ceilings.upsertSingle.perSecond, 'rows/s'),
    );

    console.error('pipeline: starting the components and aggregators…');
    sys = await startSystem(env);
    console.error(`pipeline: ${fmt(opts.commands)} commands…`);
    const pipe = await pipeline(env, sys, opts);
    const P = `2. pipeline (${fmt(pipe.commands)} commands, 3 components + 3 aggregators)`;
    rows.push(
      row(P, 'publishCommand, 256 in flight (while the pipeline runs)', pipe.publish.perSecond, 'cmd/s'),
    );
    rows.push(
      row(P, 'sustained: published → every view reflects every command', pipe.run.perSecond, 'cmd/s', {
        op: '≥',
        value: 3_000,
      }),
    );
    rows.push(
      row(
        P,
        '  ÷ windowed publish ceiling',
        (100 * pipe.run.perSecond) / ceilings.publishWindowed.perSecond,
        '%',
        {
          op: '≥',
          value: 40,
        },
      ),
    );
    rows.push(row(P, '  events appended per second', pipe.events / pipe.run.seconds, 'ev/s'));
    if (pipe.parked > 0) problems.push(`${pipe.parked} messages parked during the pipeline`);
    if (pipe.reactorCommands < 0)
      problems.push(`only ${pipe.commands + pipe.reactorCommands} outcomes for ${pipe.commands} commands`);

    const latencies: LatencyResult[] = [];
    for (const offered of opts.loads) {
      console.error(`latency: ${offered} commands/s for ${opts.latencySeconds} s…`);
      latencies.push(await latency(env, sys, opts, offered));
    }
    const L = '3. latency, command published → view committed (notice)';
    for (const l of latencies) {
      const tag = `${fmt(l.offered)}/s offered (${fmt(l.achieved)}/s sent)`;
      rows.push(row(L, `${tag} p50`, l.ms.p50, 'ms'));
      rows.push(row(L, `${tag} p95`, l.ms.p95, 'ms'));
      rows.push(
        row(L, `${tag} p99`, l.ms.p99, 'ms', l.offered === 1_000 ? { op: '≤', value: 50 } : undefined),
      );
      if (l.seen < l.sent)
        problems.push(`latency at ${l.offered}/s: ${l.sent - l.seen} of ${l.sent} commands had no notice`);
    }
    await sys.stop();
    sys = undefined;

    console.error('http: the three apps, Prefer: wait and autocannon…');
    const http: HttpResult = await httpBench(opts.http);
    rows.push(
      row(L, `HTTP POST task with Prefer: wait → 201, one at a time, p50`, http.preferWait.ms.p50, 'ms'),
    );
    rows.push(
      row(L, `HTTP POST task with Prefer: wait → 201, one at a time, p95`, http.preferWait.ms.p95, 'ms'),
    );
    rows.push(
      row(L, `HTTP POST task with Prefer: wait → 201, one at a time, p99`, http.preferWait.ms.p99, 'ms'),
    );
    if (http.preferWait.created < http.preferWait.requests) {
      problems.push(
        `Prefer: wait: ${http.preferWait.requests - http.preferWait.created} requests did not answer 201`,
      );
    }
    const I = `4. HTTP ingress (autocannon, ${opts.http.connections} connections, ${opts.http.seconds} s each, authenticated)`;
    for (const r of http.ingress) {
      rows.push(row(I, `${r.app} ${r.kind} ${r.endpoint}`, r.requestsPerSecond, 'req/s'));
      rows.push(row(I, '  latency p50', r.latencyMs.p50, 'ms'));
      rows.push(row(I, '  latency p99', r.latencyMs.p99, 'ms'));
      if (r.non2xx > 0 || r.errors > 0) {
        problems.push(
          `${r.app} ${r.endpoint}: ${r.non2xx} non-2xx answers, ${r.errors} errors of ${r.requests}`,
        );
      }
    }

    const rep = await replay(env, opts);
    const ceiling = Math.min(ceilings.orderedReplay.perSecond, ceilings.upsertBatched.perSecond);
    const R = `5. replay (fresh projects aggregator over ${fmt(rep.events)} events)`;
    rows.push(row(R, 'events generated (publish, 25 boards in flight)', rep.generate.perSecond, 'ev/s'));
    rows.push(
      row(R, 'catch-up from start() to the last sequence', rep.run.perSecond, 'ev/s', {
        op: '≥',
        value: 25_000,
      }),
    );
    rows.push(
      row(R, '  ÷ min(ordered replay, batched upsert)', (100 * rep.run.perSecond) / ceiling, '%', {
        op: '≥',
        value: 60,
      }),
    );
    rows.push(row(R, 'peak RSS during the catch-up (sampled every 100 ms)', rep.peakRssMiB, 'MiB'));
    if (rep.events < opts.replayEvents)
      problems.push(`replay ran over ${rep.events} events, fewer than ${opts.replayEvents}`);

    const hyd = await hydration(env, opts);
    const H = `6. hydration (a project with ${fmt(hyd.priorEvents)} prior events; load + decide)`;
    rows.push(
      row(H, 'cold (fresh EntityStore: snapshot + tail), median', hyd.coldMs.p50, 'ms', {
        op: '≤',
        value: 20,
      }),
    );
    rows.push(row(H, 'warm (cached), median', hyd.warmMs.p50, 'ms', { op: '≤', value: 2 }));

    console.log(
      `\nBenchmark${opts.quick ? ' (quick)' : ''} — node ${process.version}, ${os.cpus().length} cores, ` +
        `${fmt(seconds(started), 1)} s`,
    );
    printTable(rows);
    console.log(`\n  pipeline mix: ${JSON.stringify(pipe.byType)}`);
    console.log(
      `  outcomes: ${JSON.stringify(pipe.outcomes)} (${pipe.reactorCommands} issued by the Estimation reactor); ` +
        `conflicts ${pipe.conflicts}; parked ${pipe.parked}; view command_outcomes ${JSON.stringify(pipe.viewOutcomes)}`,
    );
    console.log(`  pipeline ${pipe.cpu}`);
    console.log(
      `  pipeline handle() per command (load + decide + append): p50 ${fmt(pipe.handleMs.p50, 1)} ms, ` +
        `p99 ${fmt(pipe.handleMs.p99, 1)} ms; aggregator batches: ` +
        Object.entries(pipe.batches)
          .map(
            ([a, b]) =>
              `${a} ${b.count} of ${fmt(b.events / Math.max(1, b.count), 1)} events, ${fmt(b.ms / 1000, 1)} s inside`,
          )
          .join('; '),
    );
    for (const l of latencies) {
      const parts = Object.entries(l.byType).map(([t, v]) => `${t} ${fmt(v.p50)}/${fmt(v.p99)}`);
      console.log(`  latency at ${fmt(l.offered)}/s by type, p50/p99 ms: ${parts.join(', ')}`);
    }
    for (const p of problems) console.log(`  CHECK FAILED: ${p}`);
    const failed = rows.filter((r) => r.pass === false).length;
    console.log(`\n  ${rows.filter((r) => r.pass).length} targets met, ${failed} missed`);

    const out = path.join(__dirname, 'results', 'latest.json');
    mkdirSync(path.dirname(out), { recursive: true });
    const report = {
      at: new Date().toISOString(),
      host: { node: process.version, cpus: os.cpus().length, model: os.cpus()[0]?.model },
      options: opts,
      seconds: seconds(started),
      rows,
      ceilings,
      pipeline: pipe,
      latency: latencies,
      http,
      replay: rep,
      hydration: hyd,
      problems,
    };
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`  wrote ${path.relative(process.cwd(), out)}`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
