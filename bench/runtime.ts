/**
 * Runtime benchmark: the messaging runtime of common-events on the machine's real NATS and Postgres,
 * judged against the raw ceilings measured in the same run.
 *
 *   npx tsx bench/runtime.ts [--commands N] [--entities N] [--quick] [--profile] [--seed N]
 *
 * 1. Ceilings (≈800-byte messages): JetStream acked publish one at a time and 256 in flight, durable
 *    consume + ack, ordered replay; Postgres jsonb upsert in batches of 500 and one row per transaction.
 * 2. Component: N projects commands (AddProject, then AddTask / MoveTask spread over the projects) are
 *    published to COMMANDS, then ONE buildComponent(projectDecider) decides them all.
 * 3. Aggregator: buildAggregator(projectsProjection) folds the EVENTS of step 2 into a fresh schema;
 *    then its real board documents are loaded and upserted again without a fold (Postgres' share).
 *
 * Everything runs in a private namespace (openTestEnv) that is removed at the end, even on error.
 * Prints a table and writes bench/results/runtime-latest.json. `--profile` also samples the CPU of
 * the component and aggregator phases (node:inspector), writes bench/results/runtime-*-profile.json
 * (Chrome DevTools or speedscope read them) and prints the top self-time functions. CPU seconds of
 * this process, nats-server, postgres and anything else are reported per phase: the servers share
 * the machine, and other load makes a run unreliable (it is flagged).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session, type Profiler } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildAggregator,
  buildComponent,
  createLogger,
  DEFAULT_COLUMNS,
  envelope,
  ident,
  inTransaction,
  newId,
  projectCommands,
  publishCommand,
  type Aggregator,
  type Doc,
  type Envelope,
  type Messaging,
  type Outcome,
} from '@devpie/client-events';
import { openTestEnv, type TestEnv } from '@devpie/client-events/testing/servers';
import { projectDecider } from '@devpie/projects-component';
import { projectsProjection } from '@devpie/projects-aggregator';
import {
  cpuLine,
  cpuMark,
  cpuSince,
  fmt,
  intFlag,
  jsonCeiling,
  MiB,
  natsCeilings,
  noisy,
  percentile,
  postgresCeilings,
  random,
  rate,
  seconds,
  sleep,
  until,
  UPSERT_BATCH,
  windowed,
  MESSAGE_BYTES,
  type Ceilings,
  type CpuSpent,
  type Rate,
} from './ceilings';

// ---------------------------------------------------------------------------------------------
// options

interface Options {
  commands: number;
  entities: number;
  quick: boolean;
  profile: boolean;
  seed: number;
  window: number;
  sizes: {
    publishSerial: number;
    publishWindowed: number;
    upsertBatches: number;
    upsertSingle: number;
    /** Rounds of load + upsert of the aggregator's real board documents. */
    docRounds: number;
  };
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      commands: { type: 'string' },
      entities: { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npx tsx bench/runtime.ts [--commands N] [--entities N] [--quick] [--profile] [--seed N]',
    );
    process.exit(0);
  }
  const quick = values.quick;
  const entities = intFlag('entities', values.entities, quick ? 50 : 200, 1);
  const commands = intFlag('commands', values.commands, quick ? 3_000 : 20_000, entities + 1);
  return {
    commands,
    entities,
    quick,
    profile: values.profile,
    seed: intFlag('seed', values.seed, 1, 0),
    window: 256,
    sizes: quick
      ? { publishSerial: 1_000, publishWindowed: 8_000, upsertBatches: 10, upsertSingle: 500, docRounds: 5 }
      : {
          publishSerial: 5_000,
          publishWindowed: 40_000,
          upsertBatches: 40,
          upsertSingle: 3_000,
          docRounds: 20,
        },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU profile of one phase, summarised by self time

interface ProfileSummary {
  file: string;
  sampledS: number;
  /** `via`: for a native frame (no script), the nearest JavaScript caller. */
  top: { fn: string; where: string; via?: string; selfMs: number; share: number }[];
  byArea: { area: string; selfMs: number; share: number }[];
}

async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session, file: string): Promise<ProfileSummary> {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(profile));
  return summarize(profile, file);
}

function where(url: string): string {
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) return p.slice(nm + '/node_modules/'.length);
  return p.startsWith(process.cwd()) ? p.slice(process.cwd().length + 1) : p;
}

const SPECIAL = ['(garbage collector)', '(idle)', '(program)', '(root)'];

function area(url: string, fn: string): string {
  if (url === '') return SPECIAL.includes(fn) ? fn : 'native (builtins, syscalls)';
  if (url.startsWith('node:')) return 'node internals';
  const w = where(url);
  if (w.startsWith('@nats-io/')) return 'nats.js';
  if (w.startsWith('zod/')) return 'zod (validation)';
  if (w.startsWith('pg') || w.startsWith('postgres-')) return 'pg';
  if (w.startsWith('lru-cache/')) return 'lru-cache';
  if (w.startsWith('common-events/src/runtime/')) return 'runtime (common-events)';
  if (w.startsWith('common-events/')) return 'contracts (common-events)';
  if (w.startsWith('components/')) return 'decider (components)';
  if (w.startsWith('aggregators/')) return 'projection (aggregators)';
  if (w.startsWith('bench/')) return 'bench';
  return w.split('/')[0] ?? w;
}

function summarize(profile: Profiler.Profile, file: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const caller = (id: number): string | undefined => {
    for (let p = parent.get(id), depth = 0; p !== undefined && depth < 12; p = parent.get(p), depth++) {
      const { url, functionName } = byId.get(p)!.callFrame;
      if (url) return `${functionName || '(anonymous)'} ${where(url)}`;
    }
    return undefined;
  };
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // a sample lasts until the next one is taken
    const us = i + 1 < deltas.length ? deltas[i + 1]! : 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + us);
  }
  const fns = new Map<string, { fn: string; where: string; via?: string; us: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const fn = functionName || '(anonymous)';
    // tsx transpiles TypeScript: its line numbers would not match the sources
    const loc = !url ? '' : url.endsWith('.ts') ? where(url) : `${where(url)}:${lineNumber + 1}`;
    const via = url || SPECIAL.includes(fn) ? undefined : caller(id);
    const key = `${fn}@${loc}@${via ?? ''}`;
    const entry = fns.get(key) ?? { fn, where: loc, via, us: 0 };
    entry.us += us;
    fns.set(key, entry);
    const a = area(url, fn);
    areas.set(a, (areas.get(a) ?? 0) + us);
    total += us;
  }
  const share = (us: number) => (total > 0 ? us / total : 0);
  return {
    file,
    sampledS: total / 1e6,
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 20)
      .map((f) => ({ fn: f.fn, where: f.where, via: f.via, selfMs: f.us / 1000, share: share(f.us) })),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([a, us]) => ({ area: a, selfMs: us / 1000, share: share(us) })),
  };
}

function printProfile(title: string, p: ProfileSummary) {
  console.log(`\n${title} — CPU profile, ${fmt(p.sampledS, 2)} s sampled (${where(p.file)})`);
  console.log('  by area (self time):');
  for (const a of p.byArea.slice(0, 12)) {
    console.log(
      `    ${a.area.padEnd(30)} ${fmt(a.selfMs).padStart(7)} ms  ${fmt(a.share * 100, 1).padStart(5)} %`,
    );
  }
  console.log('  top functions (self time):');
  for (const f of p.top.slice(0, 15)) {
    const label = f.via ? `${f.fn} (native, called from ${f.via})` : `${f.fn} ${f.where}`;
    console.log(`    ${fmt(f.share * 100, 1).padStart(5)} %  ${fmt(f.selfMs).padStart(6)} ms  ${label}`);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. the projects commands

interface Workload {
  commands: Envelope[];
  byType: Record<string, number>;
  meanCommandBytes: number;
}

/**
 * AddProject for every project first, then AddTask and MoveTask (half each) on random projects.
 * A local model of the boards keeps every command valid (moves name an existing task and an index
 * within the target column), so any rejection the component records is worth a look.
 */
function workload(opts: Options): Workload {
  const rnd = random(opts.seed);
  const ownerId = newId();
  const content = 'Steps to reproduce, acceptance criteria and notes. '.repeat(6).slice(0, 280);
  const projects = Array.from({ length: opts.entities }, (_, p) => ({
    id: newId(),
    prefix: `P${p}`,
    columns: DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title, tasks: [] as string[] })),
    tasks: 0,
  }));
  const origin = { userId: ownerId };
  const commands: Envelope[] = projects.map((p) =>
    envelope(
      'AddProject',
      {
        projectId: p.id,
        name: `Board ${p.prefix}`,
        description: 'A kanban board of the runtime benchmark',
        teamId: null,
        prefix: p.prefix,
        public: false,
        columns: p.columns.map(({ columnId, title }) => ({ columnId, title })),
      },
      origin,
    ),
  );
  let taskNumber = 0;
  while (commands.length < opts.commands) {
    const p = projects[rnd.int(projects.length)]!;
    if (p.tasks === 0 || rnd.next() < 0.5) {
      const column = p.columns[rnd.int(p.columns.length)]!;
      const taskId = newId();
      column.tasks.push(taskId);
      p.tasks++;
      commands.push(
        envelope(
          'AddTask',
          {
            projectId: p.id,
            columnId: column.columnId,
            taskId,
            title: `Task ${++taskNumber}: make the board faster`,
            content,
            assigneeId: ownerId,
          },
          origin,
        ),
      );
      continue;
    }
    const nonEmpty = p.columns.filter((c) => c.tasks.length > 0);
    const from = nonEmpty[rnd.int(nonEmpty.length)]!;
    const fromIndex = rnd.int(from.tasks.length);
    const taskId = from.tasks[fromIndex]!;
    from.tasks.splice(fromIndex, 1);
    const to = p.columns[rnd.int(p.columns.length)]!;
    const index = rnd.int(to.tasks.length + 1);
    to.tasks.splice(index, 0, taskId);
    commands.push(envelope('MoveTask', { projectId: p.id, taskId, toColumnId: to.columnId, index }, origin));
  }
  const byType: Record<string, number> = {};
  let bytes = 0;
  for (const c of commands) {
    byType[c.type] = (byType[c.type] ?? 0) + 1;
    bytes += Buffer.byteLength(JSON.stringify(c));
  }
  return { commands, byType, meanCommandBytes: bytes / commands.length };
}

interface ComponentResult {
  commands: number;
  byType: Record<string, number>;
  meanCommandBytes: number;
  publish: Rate;
  /** From component.start() until every command has an outcome (hooks.onOutcome). */
  run: Rate;
  /** Until the durable shows num_pending + num_ack_pending = 0. */
  untilAckedS: number;
  outcomes: Record<Outcome, number>;
  rejections: Record<string, number>;
  conflicts: number;
  parked: number;
  redelivered: number;
  events: number;
  meanEventBytes: number;
  handleMs: { p50: number; p90: number; p99: number; max: number };
  /** Outcomes per second of the run, to see whether throughput decays as the boards grow. */
  timeline: number[];
  /** Mean of the whole seconds between the first and the last (warm-up and tail left out). */
  steadyPerSecond?: number;
  cpu: CpuSpent;
  profile?: ProfileSummary;
}

async function componentPhase(
  env: TestEnv,
  opts: Options,
  cleanups: (() => Promise<void>)[],
): Promise<ComponentResult> {
  const work = workload(opts);
  const n = work.commands.length;
  let t = performance.now();
  await windowed(n, opts.window, (i) => publishCommand(env.messaging, projectCommands, work.commands[i]!));
  const publish = rate(n, seconds(t));
  const stored = (await env.messaging.jsm.streams.info(env.names.stream('COMMANDS'))).state.messages;
  if (stored !== n) throw new Error(`COMMANDS holds ${stored} messages, expected ${n}`);

  const messaging: Messaging = await env.connect('bench-component');
  const outcomes: Record<Outcome, number> = { accepted: 0, rejected: 0, duplicate: 0 };
  let conflicts = 0;
  let parked = 0;
  let done = 0;
  const handleMs = new Float64Array(n);
  const timeline: number[] = [];
  let resolveAll: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (resolveAll = resolve));
  const component = buildComponent({
    messaging,
    decider: projectDecider,
    name: 'projects-component',
    logger: createLogger('bench-component', process.env.LOG_LEVEL ?? 'warn'),
    hooks: {
      onOutcome(_type, outcome, ms) {
        outcomes[outcome]++;
        if (done < n) handleMs[done] = ms;
        const second = Math.floor((performance.now() - t) / 1000);
        timeline[second] = (timeline[second] ?? 0) + 1;
        if (++done >= n) resolveAll();
      },
      onConflict: () => void conflicts++,
      onParked: () => void parked++,
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await component.stop();
  };
  cleanups.push(stop);

  const session = opts.profile ? await startProfile() : undefined;
  const cpu0 = cpuMark();
  t = performance.now();
  await component.start();
  await watch('component', allDone, () => done, n);
  const run = rate(n, seconds(t));
  const cpu = cpuSince(cpu0);
  const profile = session
    ? await stopProfile(session, path.join(__dirname, 'results', 'runtime-component-profile.json'))
    : undefined;

  const stream = env.names.stream('COMMANDS');
  const durable = env.names.durable('projects-component');
  const info = await until(
    'component durable drained',
    async () => {
      const i = await env.messaging.jsm.consumers.info(stream, durable);
      return i.num_pending + i.num_ack_pending === 0 ? i : undefined;
    },
    30_000,
  );
  const untilAckedS = seconds(t);
  await stop();

  const events = (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state;
  const rejections = await countRejections(env, events.messages);
  const sorted = handleMs.slice(0, Math.min(done, n)).sort();
  return {
    commands: n,
    byType: work.byType,
    meanCommandBytes: work.meanCommandBytes,
    publish,
    run,
    untilAckedS,
    outcomes,
    rejections,
    conflicts,
    parked,
    redelivered: info.num_redelivered,
    events: events.messages,
    meanEventBytes: events.messages > 0 ? events.bytes / events.messages : 0,
    handleMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? 0,
    },
    timeline: Array.from(timeline, (v) => v ?? 0),
    steadyPerSecond:
      timeline.length >= 3
        ? Array.from(timeline.slice(1, -1), (v) => v ?? 0).reduce((a, b) => a + b, 0) / (timeline.length - 2)
        : undefined,
    cpu,
    profile,
  };
}

/** Waits for `finished`, failing if `progress()` stands still for 60 s. */
async function watch(what: string, finished: Promise<void>, progress: () => number, total: number) {
  let last = -1;
  let lastChange = Date.now();
  let settled = false;
  void finished.then(() => (settled = true));
  while (!settled) {
    await Promise.race([finished, sleep(500)]);
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 60_000) {
      throw new Error(`${what} stalled at ${now} of ${total}`);
    }
  }
}

/** Reason codes of the CommandRejected events in EVENTS (an ordered replay: cheap next to the run). */
async function countRejections(env: TestEnv, total: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (total === 0) return out;
  const messages = await (await env.messaging.js.consumers.get(env.names.stream('EVENTS'))).consume();
  let seen = 0;
  for await (const m of messages) {
    const e = m.json<Envelope<string, { reason?: string }>>();
    if (e.type === 'CommandRejected') out[e.data.reason ?? '?'] = (out[e.data.reason ?? '?'] ?? 0) + 1;
    if (++seen >= total) break;
  }
  messages.stop();
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. aggregator

interface AggregatorResult {
  schema: string;
  events: number;
  /** From aggregator.start() until position = last sequence of EVENTS. */
  run: Rate;
  /** start(): migrate, leadership lock, durable reset, until the first batch committed. */
  toFirstBatchS: number;
  batches: { count: number; meanSize: number; meanMs: number; maxMs: number; inBatchesS: number };
  /** View rows written (from the aggregator's notices): each batch writes every board it touched. */
  rowWrites: number;
  rowWritesPerSecond: number;
  view: { projects: number; tasks: number; outcomes: number; meanDocBytes: number; maxDocBytes: number };
  cpu: CpuSpent;
  profile?: ProfileSummary;
}

async function aggregatorPhase(
  env: TestEnv,
  opts: Options,
  cleanups: (() => Promise<void>)[],
): Promise<AggregatorResult> {
  const lastSeq = (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;
  const messaging = await env.connect('bench-aggregator');
  const schema = env.names.schema('projects_bench');
  const batchMs: number[] = [];
  const batchSizes: number[] = [];
  let firstBatchAt = 0;
  let resolveAll: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (resolveAll = resolve));
  let aggregator: Aggregator | undefined = undefined;
  aggregator = buildAggregator({
    messaging,
    pool: env.pool,
    projection: projectsProjection,
    logger: createLogger('bench-aggregator', process.env.LOG_LEVEL ?? 'warn'),
    schema,
    durable: 'projects-bench-aggregator',
    hooks: {
      onBatch({ size, ms }) {
        if (firstBatchAt === 0) firstBatchAt = performance.now();
        batchSizes.push(size);
        batchMs.push(ms);
        if (aggregator && aggregator.position >= lastSeq) resolveAll();
      },
    },
  });
  const agg = aggregator;
  let rowWrites = 0;
  const notices = messaging.nc.subscribe(env.names.notice(projectsProjection.name), {
    callback: (err, m) => {
      if (!err) rowWrites += m.json<{ changes: unknown[] }>().changes.length;
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await agg.stop();
  };
  cleanups.push(stop);

  const session = opts.profile ? await startProfile() : undefined;
  const cpu0 = cpuMark();
  const t = performance.now();
  await agg.start();
  await watch('aggregator', allDone, () => agg.position, lastSeq);
  const run = rate(lastSeq, seconds(t));
  const cpu = cpuSince(cpu0);
  const profile = session
    ? await stopProfile(session, path.join(__dirname, 'results', 'runtime-aggregator-profile.json'))
    : undefined;
  await stop();
  await messaging.nc.flush();
  notices.unsubscribe();

  const s = ident(schema);
  const { rows } = await env.pool.query<{
    projects: string;
    tasks: string | null;
    mean_bytes: string | null;
    max_bytes: string | null;
  }>(
    `SELECT count(*) AS projects, sum((doc->>'taskCount')::int) AS tasks,
            avg(octet_length(doc::text)) AS mean_bytes, max(octet_length(doc::text)) AS max_bytes
       FROM ${s}.projects`,
  );
  const outcomes = await env.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.command_outcomes`);
  const inBatches = batchMs.reduce((a, b) => a + b, 0);
  return {
    schema,
    events: lastSeq,
    run,
    toFirstBatchS: (firstBatchAt - t) / 1000,
    batches: {
      count: batchSizes.length,
      meanSize: batchSizes.reduce((a, b) => a + b, 0) / Math.max(1, batchSizes.length),
      meanMs: inBatches / Math.max(1, batchMs.length),
      maxMs: Math.max(0, ...batchMs),
      inBatchesS: inBatches / 1000,
    },
    rowWrites,
    rowWritesPerSecond: rowWrites / run.seconds,
    view: {
      projects: Number(rows[0]!.projects),
      tasks: Number(rows[0]!.tasks ?? 0),
      outcomes: Number(outcomes.rows[0]!.n),
      meanDocBytes: Number(rows[0]!.mean_bytes ?? 0),
      maxDocBytes: Number(rows[0]!.max_bytes ?? 0),
    },
    cpu,
    profile,
  };
}

/**
 * The Postgres side of the aggregator with its real documents and no fold: the board documents it
 * wrote are copied to a scratch table; each round loads them (`WHERE id = ANY`, as ViewStore.load)
 * and upserts them back from parameters (`unnest($2::jsonb[])`: pg turns the JS array into one array
 * literal, escaping every quote), in one transaction per 500 rows. For comparison the same rows are
 * then upserted from one JSON parameter (`jsonb_to_recordset($1::jsonb)`). (The aggregator itself now
 * inlines its documents into one simple-query string: `ViewStore.batchStatements`.)
 */
interface DocCeiling {
  rows: number;
  meanDocBytes: number;
  rounds: number;
  load: Rate;
  upsertUnnest: Rate;
  upsertRecordset: Rate;
  /** load + unnest upsert per transaction: the aggregator's I/O without its fold */
  loadAndUpsert: Rate;
  upsertUnnestMiBPerSecond: number;
  upsertRecordsetMiBPerSecond: number;
}

async function boardDocCeiling(env: TestEnv, viewSchema: string, rounds: number): Promise<DocCeiling> {
  const scratch = ident(env.names.schema('bench_docs'));
  const table = `${scratch}.docs`;
  await env.pool.query(`CREATE SCHEMA ${scratch}`);
  try {
    await env.pool.query(
      `CREATE TABLE ${table} (id text PRIMARY KEY, doc jsonb NOT NULL, version bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await env.pool.query(
      `INSERT INTO ${table} (id, doc, version) SELECT id, doc, version FROM ${ident(viewSchema)}.projects`,
    );
    const { rows: all } = await env.pool.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`);
    const ids = all.map((r) => r.id);
    const set =
      'ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = excluded.version, updated_at = now()';
    const unnest = `INSERT INTO ${table} (id, doc, version)
      SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bigint[]) ${set}`;
    const recordset = `INSERT INTO ${table} (id, doc, version)
      SELECT id, doc, version FROM jsonb_to_recordset($1::jsonb) AS r(id text, doc jsonb, version bigint) ${set}`;
    const ms = { load: 0, unnest: 0, recordset: 0, loadAndUpsert: 0 };
    let bytes = 0;
    for (let round = 1; round <= rounds; round++) {
      for (let at = 0; at < ids.length; at += UPSERT_BATCH) {
        const chunk = ids.slice(at, at + UPSERT_BATCH);
        let loaded: { id: string; doc: Doc }[] = [];
        const t = performance.now();
        await inTransaction(env.pool, async (client) => {
          let t0 = performance.now();
          loaded = (
            await client.query<{ id: string; doc: Doc }>(
              `SELECT id, doc FROM ${table} WHERE id = ANY($1::text[])`,
              [chunk],
            )
          ).rows;
          ms.load += performance.now() - t0;
          t0 = performance.now();
          const docs = loaded.map((r) => JSON.stringify({ ...r.doc, version: round }));
          for (const d of docs) bytes += d.length;
          await client.query(unnest, [loaded.map((r) => r.id), docs, loaded.map(() => round)]);
          ms.unnest += performance.now() - t0;
        });
        ms.loadAndUpsert += performance.now() - t;
        const t1 = performance.now();
        const json = JSON.stringify(
          loaded.map((r) => ({ id: r.id, doc: { ...r.doc, version: round }, version: round })),
        );
        await env.pool.query(recordset, [json]);
        ms.recordset += performance.now() - t1;
      }
    }
    const n = ids.length * rounds;
    return {
      rows: ids.length,
      meanDocBytes: n > 0 ? bytes / n : 0,
      rounds,
      load: rate(n, ms.load / 1000),
      upsertUnnest: rate(n, ms.unnest / 1000),
      upsertRecordset: rate(n, ms.recordset / 1000),
      loadAndUpsert: rate(n, ms.loadAndUpsert / 1000),
      upsertUnnestMiBPerSecond: ms.unnest > 0 ? bytes / MiB / (ms.unnest / 1000) : 0,
      upsertRecordsetMiBPerSecond: ms.recordset > 0 ? bytes / MiB / (ms.recordset / 1000) : 0,
    };
  } finally {
    await env.pool.query(`DROP SCHEMA IF EXISTS ${scratch} CASCADE`);
  }
}

// ---------------------------------------------------------------------------------------------
// report

interface Ratios {
  componentVsPublish: number;
  componentVsOccPublish: number;
  componentSteadyVsPublish?: number;
  /** min(batched upsert of 800-byte rows, durable consume + ack), in rows or messages per second */
  aggregatorCeiling: number;
  aggregatorVsCeiling: number;
  /**
   * ≈ MiB of board documents the aggregator wrote per second: rows written × half the final mean
   * document size (boards grow about linearly from empty during the run).
   */
  aggregatorMiBPerSecond: number;
  /** that ÷ the jsonb_to_recordset upsert of the final documents (no load, no fold) */
  aggregatorVsDocUpsert: number;
  componentVsEmmett: number;
}

function printReport(
  opts: Options,
  c: Ceilings,
  comp: ComponentResult,
  agg: AggregatorResult,
  docs: DocCeiling,
  ratios: Ratios,
) {
  const row = (label: string, r: Rate, unit: string) =>
    console.log(
      `  ${label.padEnd(58)} ${fmt(r.perSecond).padStart(8)} ${unit.padEnd(6)} ${fmt(r.count).padStart(7)} ` +
        `${fmt(r.seconds, 2).padStart(7)} s`,
    );
  const pct = (x: number) => `${fmt(x * 100, 1)} %`;
  console.log(
    `\nRuntime benchmark — ${opts.commands} commands over ${opts.entities} projects` +
      `${opts.quick ? ' (quick)' : ''}, node ${process.version}, ${os.cpus().length} cores`,
  );
  console.log(
    `\n  ${'ceilings (800-byte messages)'.padEnd(58)} ${'rate'.padStart(8)} ${'n'.padStart(14)}    time`,
  );
  row('JetStream acked publish, one at a time', c.publishSerial, 'msg/s');
  row('JetStream acked publish, 256 in flight', c.publishWindowed, 'msg/s');
  row('  + Nats-Msg-Id + expected last subject seq', c.publishWindowedOcc, 'msg/s');
  row('JetStream durable consume + ack', c.durableConsume, 'msg/s');
  row('JetStream ordered replay', c.orderedReplay, 'msg/s');
  row('Postgres jsonb upsert, unnest batches of 500', c.upsertBatched, 'rows/s');
  row('Postgres jsonb upsert, one row per transaction', c.upsertSingle, 'rows/s');
  console.log(`    ${cpuLine(c.cpu)}`);
  console.log('\n  pipeline (projects context)');
  row('publishCommand (validate + publish), 256 in flight', comp.publish, 'cmd/s');
  row('component: projectDecider, one instance', comp.run, 'cmd/s');
  row('aggregator: projectsProjection, from start()', agg.run, 'ev/s');
  row('  view rows written by the aggregator', rate(agg.rowWrites, agg.run.seconds), 'rows/s');

  console.log(
    `\n  the aggregator's board documents, measured after it (${fmt(docs.meanDocBytes / 1024, 1)} KiB mean, ` +
      `${docs.rows} per transaction, ${docs.rounds} rounds)`,
  );
  row('Postgres load (WHERE id = ANY)', docs.load, 'rows/s');
  row('Postgres upsert, unnest($2::jsonb[])', docs.upsertUnnest, 'rows/s');
  row('Postgres upsert, jsonb_to_recordset($1::jsonb)', docs.upsertRecordset, 'rows/s');
  row('Postgres load + unnest upsert, one transaction', docs.loadAndUpsert, 'rows/s');

  console.log('\n  ratios');
  console.log(
    `    component / windowed publish ceiling                  ${pct(ratios.componentVsPublish)}` +
      `  (steady seconds only: ${ratios.componentSteadyVsPublish ? pct(ratios.componentSteadyVsPublish) : 'n/a'};` +
      ` vs publish with msg-id + OCC: ${pct(ratios.componentVsOccPublish)})`,
  );
  console.log(
    `    aggregator / min(batched upsert, durable consume)     ${pct(ratios.aggregatorVsCeiling)}` +
      `  (ceiling ${fmt(ratios.aggregatorCeiling)} /s)`,
  );
  console.log(
    `    aggregator / upsert of its documents (its encoding), MiB/s  ≈ ${pct(ratios.aggregatorVsDocUpsert)}` +
      `  (≈ ${fmt(ratios.aggregatorMiBPerSecond, 1)} of ${fmt(docs.upsertRecordsetMiBPerSecond, 1)} MiB/s;` +
      ` the old unnest encoding took ${fmt(docs.upsertUnnestMiBPerSecond, 1)} MiB/s)`,
  );
  console.log(
    `    component / Emmett 0.42 (435 cmd/s, DESIGN.md, not measured here) ${fmt(ratios.componentVsEmmett, 1)}×`,
  );

  console.log('\n  component');
  const mix = Object.entries(comp.byType)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `    commands: ${mix}; mean ${fmt(comp.meanCommandBytes)} B; events stored ${comp.events} ` +
      `(mean ${fmt(comp.meanEventBytes)} B stored, with subject and headers)`,
  );
  console.log(
    `    outcomes: accepted ${comp.outcomes.accepted}, rejected ${comp.outcomes.rejected}, ` +
      `duplicate ${comp.outcomes.duplicate}; concurrency conflicts ${comp.conflicts}; parked ${comp.parked}; ` +
      `redelivered ${comp.redelivered}`,
  );
  if (Object.keys(comp.rejections).length > 0) {
    console.log(`    rejection reasons: ${JSON.stringify(comp.rejections)}`);
  }
  console.log(
    `    handle() per command (load + decide + append, queueing excluded): p50 ${fmt(comp.handleMs.p50, 1)} ms, ` +
      `p90 ${fmt(comp.handleMs.p90, 1)} ms, p99 ${fmt(comp.handleMs.p99, 1)} ms, max ${fmt(comp.handleMs.max, 1)} ms`,
  );
  console.log(
    `    outcomes per second: ${comp.timeline.join(' ')}` +
      (comp.steadyPerSecond ? ` (steady ${fmt(comp.steadyPerSecond)} cmd/s)` : '') +
      `; all acked after ${fmt(comp.untilAckedS, 2)} s`,
  );
  console.log(`    ${cpuLine(comp.cpu)}`);

  console.log('\n  aggregator');
  console.log(
    `    ${agg.events} events; first batch committed ${fmt(agg.toFirstBatchS, 2)} s after start(); ` +
      `${agg.batches.count} batches of ${fmt(agg.batches.meanSize)} events, ` +
      `${fmt(agg.rowWrites / Math.max(1, agg.batches.count))} rows written each, ` +
      `mean ${fmt(agg.batches.meanMs, 1)} ms, max ${fmt(agg.batches.maxMs, 1)} ms; ` +
      `${fmt(agg.batches.inBatchesS, 2)} s inside batches`,
  );
  console.log(
    `    view: ${agg.view.projects} projects, ${agg.view.tasks} tasks, ${agg.view.outcomes} command outcomes; ` +
      `board doc mean ${fmt(agg.view.meanDocBytes / 1024, 1)} KiB, max ${fmt(agg.view.maxDocBytes / 1024, 1)} KiB`,
  );
  console.log(`    ${cpuLine(agg.cpu)}`);
  const loud = [
    ['ceilings', c.cpu],
    ['component', comp.cpu],
    ['aggregator', agg.cpu],
  ] as const;
  for (const [phase, cpu] of loud.filter(([, cpu]) => noisy(cpu))) {
    console.log(
      `\n  WARNING: other processes used ${fmt(cpu.otherS, 1)} of ${fmt(cpu.machineS, 1)} core-s during the ` +
        `${phase} phase: its figures are not clean; run again on a quiet machine.`,
    );
  }
  if (comp.profile) printProfile('component', comp.profile);
  if (agg.profile) printProfile('aggregator', agg.profile);
}

/** What the run must have produced: one outcome per command, every event folded. */
function checks(opts: Options, comp: ComponentResult, agg: AggregatorResult): string[] {
  const problems: string[] = [];
  if (comp.events !== comp.commands) problems.push(`EVENTS holds ${comp.events}, expected ${comp.commands}`);
  if (comp.outcomes.rejected > 0) problems.push(`${comp.outcomes.rejected} commands rejected`);
  if (comp.parked > 0) problems.push(`${comp.parked} commands parked`);
  if (agg.view.projects !== opts.entities) {
    problems.push(`view holds ${agg.view.projects} projects, expected ${opts.entities}`);
  }
  const added = comp.byType.AddTask ?? 0;
  if (agg.view.tasks !== added) problems.push(`view holds ${agg.view.tasks} tasks, expected ${added}`);
  if (agg.view.outcomes !== comp.commands) {
    problems.push(`${agg.view.outcomes} command outcomes recorded, expected ${comp.commands}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = readOptions();
  const env = await openTestEnv();
  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const c of cleanups.reverse()) {
        await Promise.race([c(), sleep(10_000)]).catch((err: unknown) =>
          console.error('cleanup step failed:', err),
        );
      }
      await env.close();
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: removing namespace ${env.names.namespace}`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.error(`namespace ${env.names.namespace}: ceilings…`);
    const cpu0 = cpuMark();
    const nats = await natsCeilings(env, opts, cleanups);
    const pg = await postgresCeilings(env, opts);
    const ceilings: Ceilings = {
      messageBytes: MESSAGE_BYTES,
      ...nats,
      ...pg,
      ...jsonCeiling(),
      cpu: cpuSince(cpu0),
    };
    console.error(`component: ${opts.commands} commands over ${opts.entities} projects…`);
    const component = await componentPhase(env, opts, cleanups);
    console.error('aggregator…');
    const aggregator = await aggregatorPhase(env, opts, cleanups);
    console.error('board documents…');
    const docs = await boardDocCeiling(env, aggregator.schema, opts.sizes.docRounds);

    const aggregatorMiBPerSecond = (aggregator.rowWritesPerSecond * docs.meanDocBytes) / 2 / MiB;
    const aggregatorCeiling = Math.min(ceilings.upsertBatched.perSecond, ceilings.durableConsume.perSecond);
    const ratios: Ratios = {
      componentVsPublish: component.run.perSecond / ceilings.publishWindowed.perSecond,
      componentVsOccPublish: component.run.perSecond / ceilings.publishWindowedOcc.perSecond,
      componentSteadyVsPublish: component.steadyPerSecond
        ? component.steadyPerSecond / ceilings.publishWindowed.perSecond
        : undefined,
      aggregatorCeiling,
      aggregatorVsCeiling: aggregator.run.perSecond / aggregatorCeiling,
      aggregatorMiBPerSecond,
      aggregatorVsDocUpsert: aggregatorMiBPerSecond / docs.upsertRecordsetMiBPerSecond,
      componentVsEmmett: component.run.perSecond / 435,
    };
    printReport(opts, ceilings, component, aggregator, docs, ratios);
    const problems = checks(opts, component, aggregator);
    for (const p of problems) console.log(`  CHECK FAILED: ${p}`);

    const out = path.join(__dirname, 'results', 'runtime-latest.json');
    mkdirSync(path.dirname(out), { recursive: true });
    const { sizes, ...shown } = opts;
    const report = {
      at: new Date().toISOString(),
      host: { node: process.version, cpus: os.cpus().length, model: os.cpus()[0]?.model },
      options: { ...shown, ceilingSizes: sizes },
      ceilings,
      boardDocuments: docs,
      component,
      aggregator,
      ratios,
      problems,
    };
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
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
