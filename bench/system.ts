/**
 * The system under the pipeline and latency benches: the three components and the three
 * aggregators, either all in the bench process (`in-process`: one thread, exact per-command
 * timings) or each in its own process as deployed (`processes`: the services' own main.ts,
 * figures read from their /metrics).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildAggregator, createLogger, createPool, type Aggregator } from '@devpie/client-events';
import { TEST_DATABASE_URL, TEST_NATS_URL, type TestEnv } from '@devpie/client-events/testing/servers';
import { buildIdentityComponent } from '@devpie/identity-component';
import { buildProjectsComponent } from '@devpie/projects-component';
import { buildEstimationComponent } from '@devpie/estimation-component';
import { identityProjection } from '@devpie/identity-aggregator';
import { projectsProjection } from '@devpie/projects-aggregator';
import { estimationProjection } from '@devpie/estimation-aggregator';
import { CONTEXTS, ServiceProcess } from '../faults/processes';
import { freePort } from '../faults/servers';
import { processStat, sleep, TICKS_PER_SECOND } from './ceilings';
import { percentiles } from './percentiles';
import { StageRecorder, type StageTimes } from './stages';

export type Layout = 'processes' | 'in-process';
export const LAYOUTS: readonly Layout[] = ['in-process', 'processes'];

export const PROJECTIONS = [identityProjection, projectsProjection, estimationProjection];

/** Counters since the system started. */
export interface SystemStats {
  outcomes: { accepted: number; rejected: number; duplicate: number };
  parked: number;
  conflicts: number;
  /** Commands handled (load + decide + append) and their time. */
  handle: { count: number; seconds: number };
  /** Per aggregator: batches committed and the events in them. */
  batches: Record<string, { count: number; events: number }>;
}

export interface System {
  /** Where the services run, for the report. */
  layout: string;
  stats(): Promise<SystemStats>;
  /** handle() p50/p99 in ms since the last call (exact in-process; histogram bucket bounds in processes). */
  handleMs(): Promise<{ p50: number; p99: number; exact: boolean }>;
  /** Every aggregator has committed (and acknowledged) everything up to `last`, the stream's last sequence. */
  caughtUp(last: number): Promise<boolean>;
  /** CPU seconds each service process has used so far (empty when the services share the bench's process). */
  cpuByService(): Record<string, number>;
  /**
   * Where commands' time goes (in-process only: the hooks' exact times): `start` records, `take`
   * returns the stages of the commands created since a time and stops. Undefined in processes.
   */
  stages?: { start(): void; take(since: number): StageTimes };
  stop(): Promise<void>;
}

/** user + system CPU seconds of a process, from /proc (0 when unreadable). */
function cpuSecondsOf(pid: number | undefined): number {
  return pid === undefined ? 0 : (processStat(pid)?.ticks ?? 0) / TICKS_PER_SECOND;
}

export const startSystem = (env: TestEnv, layout: Layout): Promise<System> =>
  layout === 'processes' ? startProcesses(env) : startInProcess(env);

async function startInProcess(env: TestEnv): Promise<System> {
  const logger = createLogger('bench', process.env.LOG_LEVEL ?? 'warn');
  const stats: SystemStats = {
    outcomes: { accepted: 0, rejected: 0, duplicate: 0 },
    parked: 0,
    conflicts: 0,
    handle: { count: 0, seconds: 0 },
    batches: {},
  };
  let handleMs: number[] = [];
  const stages = new StageRecorder();
  const hooks = {
    onOutcome: (_t: string, o: keyof SystemStats['outcomes'], ms: number, waitedMs: number) => {
      stats.outcomes[o]++;
      stats.handle.count++;
      stats.handle.seconds += ms / 1000;
      handleMs.push(ms);
      const sentAt = Date.now() - ms - waitedMs;
      stages.record('taken', sentAt, waitedMs);
      stages.record('appended', sentAt, waitedMs + ms);
    },
    onParked: () => void stats.parked++,
    onConflict: () => void stats.conflicts++,
  };
  const messaging = await env.connect('bench-components');
  const aggMessaging = await env.connect('bench-aggregators');
  const components = [
    buildIdentityComponent({ messaging, logger, hooks }),
    buildProjectsComponent({ messaging, logger, hooks }),
    buildEstimationComponent({ messaging, logger, hooks }),
  ];
  // each aggregator with its own pool, as its own process has (its leadership lock holds a connection)
  const pools = PROJECTIONS.map(() => createPool(TEST_DATABASE_URL));
  const aggregators: Aggregator[] = PROJECTIONS.map((projection, i) =>
    buildAggregator({
      messaging: aggMessaging,
      pool: pools[i]!,
      projection,
      logger,
      hooks: {
        onBatch({ size, commandToFoldMs, commandToViewMs }) {
          const b = (stats.batches[projection.name] ??= { count: 0, events: 0 });
          b.count++;
          b.events += size;
          const now = Date.now();
          commandToViewMs.forEach((ms, i) => {
            stages.record(`folded ${projection.name}`, now - ms, commandToFoldMs[i]!);
            stages.record(`committed ${projection.name}`, now - ms, ms);
          });
        },
        onParked: () => void stats.parked++,
      },
    }),
  );
  for (const a of aggregators) await a.start();
  for (const c of components) await c.start();
  return {
    layout: '3 components + 3 aggregators in the bench process',
    stats: async () => structuredClone(stats),
    async handleMs() {
      const p = percentiles(handleMs);
      handleMs = [];
      return { p50: p.p50, p99: p.p99, exact: true };
    },
    caughtUp: async (last) => aggregators.every((a) => a.position >= last),
    cpuByService: () => ({}),
    stages,
    async stop() {
      for (const c of components) await c.stop();
      for (const a of aggregators) await a.stop();
      for (const p of pools) await p.end();
    },
  };
}

/** The services' own main.ts, one process each, in the bench's namespace. */
async function startProcesses(env: TestEnv): Promise<System> {
  const root = path.resolve(__dirname, '..');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'devpie-bench-'));
  const services: ServiceProcess[] = [];
  for (const kind of ['component', 'aggregator'] as const) {
    for (const context of CONTEXTS) {
      const port = await freePort();
      const environment: NodeJS.ProcessEnv = {
        ...process.env,
        NATS_URL: TEST_NATS_URL,
        DATABASE_URL: TEST_DATABASE_URL,
        NAMESPACE: env.names.namespace,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        OPS_PORT: String(port),
      };
      delete environment.PORT;
      const log = path.join(dir, `${context}-${kind}.log`);
      services.push(new ServiceProcess(context, kind, port, root, environment, log));
    }
  }
  const stop = () => Promise.all(services.map((s) => s.close())).then(() => undefined);
  try {
    // aggregators first: their durables exist before the first event
    for (const s of services.filter((x) => x.kind === 'aggregator')) s.start();
    await Promise.all(services.filter((x) => x.kind === 'aggregator').map((s) => s.ready(60_000)));
    for (const s of services.filter((x) => x.kind === 'component')) s.start();
    await Promise.all(services.filter((x) => x.kind === 'component').map((s) => s.ready(60_000)));
  } catch (err) {
    await stop();
    throw new Error(`bench services did not start (logs in ${dir})`, { cause: err });
  }
  const scrape = async () => {
    const all = await Promise.all(services.map((s) => metricsOf(s.port)));
    return all.flat();
  };
  let lastHandle = histogram(await scrape(), 'devpie_command_seconds');
  return {
    layout: '3 components + 3 aggregators, one process each',
    async stats() {
      const m = await scrape();
      const sum = (name: string, labels: Record<string, string> = {}) =>
        m
          .filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
          .reduce((a, x) => a + x.value, 0);
      const batches: SystemStats['batches'] = {};
      for (const p of PROJECTIONS) {
        batches[p.name] = {
          count: sum('devpie_batch_size_count', { aggregator: p.name }),
          events: sum('devpie_batch_size_sum', { aggregator: p.name }),
        };
      }
      return {
        outcomes: {
          accepted: sum('devpie_commands_total', { outcome: 'accepted' }),
          rejected: sum('devpie_commands_total', { outcome: 'rejected' }),
          duplicate: sum('devpie_commands_total', { outcome: 'duplicate' }),
        },
        parked: sum('devpie_parked_total'),
        conflicts: sum('devpie_concurrency_retries_total'),
        handle: { count: sum('devpie_command_seconds_count'), seconds: sum('devpie_command_seconds_sum') },
        batches,
      };
    },
    async handleMs() {
      const now = histogram(await scrape(), 'devpie_command_seconds');
      const delta = now.map(([le, n], i) => [le, n - (lastHandle[i]?.[1] ?? 0)] as [number, number]);
      lastHandle = now;
      const total = delta.at(-1)?.[1] ?? 0;
      const at = (q: number) => (delta.find(([, n]) => n >= q * total)?.[0] ?? Infinity) * 1000;
      return { p50: at(0.5), p99: at(0.99), exact: false };
    },
    async caughtUp() {
      for (const p of PROJECTIONS) {
        const info = await env.messaging.jsm.consumers.info(
          env.names.stream('EVENTS'),
          env.names.durable(`${p.name}-aggregator`),
        );
        // acknowledged only after COMMIT (or as holding nothing to write): nothing pending or unacknowledged
        if (info.num_pending + info.num_ack_pending > 0) return false;
      }
      return true;
    },
    cpuByService: () => Object.fromEntries(services.map((s) => [s.name, cpuSecondsOf(s.pid)])),
    stop,
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A Prometheus text exposition, as samples. */
async function metricsOf(port: number): Promise<Sample[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Cumulative bucket counts of a histogram over every process and label: [upper bound s, count]. */
function histogram(samples: Sample[], name: string): [number, number][] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].sort((a, b) => a[0] - b[0]);
}

export const lastEventSeq = async (env: TestEnv) =>
  (await env.messaging.jsm.streams.info(env.names.stream('EVENTS'))).state.last_seq;

/** Every command consumer and the reactor drained, and every aggregator at the last sequence of EVENTS (twice in a row). */
export async function settled(env: TestEnv, sys: System, timeoutMs: number): Promise<number> {
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
    // the Estimation reactor may still owe commands for events it has not handled
    const reactor = await env.messaging.jsm.consumers.info(
      env.names.stream('EVENTS'),
      env.names.durable('estimation-reactor-projects'),
    );
    if (reactor.num_pending + reactor.num_ack_pending > 0) idle = false;
    const last = await lastEventSeq(env);
    if (idle && (await sys.caughtUp(last))) {
      if (++streak >= 2) return last;
    } else streak = 0;
    if (Date.now() > deadline) throw new Error(`pipeline not settled within ${timeoutMs} ms`);
    await sleep(20);
  }
}
