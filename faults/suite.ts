import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  envelope,
  ident,
  newId,
  projectCommands,
  publishCommand,
  subscribeNotices,
} from '@devpie/client-events';
import { consumersBusy } from '@devpie/client-events/testing';
import {
  PROJECTIONS,
  checkOutcomes,
  checkParked,
  checkViews,
  settle,
  type OutcomeReport,
  type ParkedReport,
  type Poison,
  type ViewReport,
} from './check';
import { Load, type Acked, type LoadStats, type User } from './load';
import { PrivateNats, PrivatePostgres, sleep, waitUntil } from './servers';
import { System } from './system';

export const MACHINE_NATS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const MACHINE_POSTGRES = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** What one phase shares between its rounds. */
export interface Phase {
  sys: System;
  users: User[];
  acked: Map<string, Acked>;
  poison: Poison[];
  nats?: PrivateNats;
  postgres?: PrivatePostgres;
  log(line: string): void;
}

/** A fault: injected while the load runs; returns what it did, as lines for the report. */
export interface Scenario {
  name: string;
  inject(phase: Phase): Promise<string[]>;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function crash(
  context: 'identity' | 'projects' | 'estimation',
  kind: 'app' | 'component' | 'aggregator',
  downMs = 1500,
): Scenario {
  return {
    name: `kill -9 ${context}-${kind}`,
    async inject({ sys }) {
      const s = sys.service(context, kind);
      const pid = s.pid;
      const r = await s.crashAndRestart(downMs);
      return [
        `kill -9 ${s.name} (pid ${pid}); down ${secs(r.downMs)}, ready again ${secs(r.readyMs)} after its restart`,
      ];
    },
  };
}

export const scenarios = {
  killComponent: crash('projects', 'component'),
  killReactor: crash('estimation', 'component'),
  killAggregator: crash('projects', 'aggregator'),
  killEstimationAggregator: crash('estimation', 'aggregator'),
  killApp: crash('projects', 'app'),
  killIdentityApp: crash('identity', 'app'),

  /**
   * With the projects component down, a burst of commands larger than its durable's
   * max_ack_pending is published straight to JetStream; then the component comes back and is
   * killed again each time it has pulled a window of them, so the dead instances' unacked
   * deliveries fill the ack-pending limit and delivery stops until their ack wait runs out.
   */
  ackPending: {
    name: 'fill the projects component ack-pending limit',
    async inject(phase) {
      const { sys, users } = phase;
      const component = sys.service('projects', 'component');
      const stream = sys.names.stream('COMMANDS');
      const durable = sys.names.durable('projects-component');
      const limit = (await sys.messaging.jsm.consumers.info(stream, durable)).config.max_ack_pending ?? 0;
      const burst = limit + 1000;
      await component.kill9();
      // one hot board: its commands are decided one after the other, so each instance holds a
      // full pull window unacked for a while
      const p = users[0]!.projects[0]!;
      const started = Date.now();
      let sent = 0;
      const send = async () => {
        while (sent < burst) {
          sent++;
          const task = p.tasks[sent % Math.max(1, p.tasks.length)];
          const command =
            task && sent % 2 === 0
              ? envelope(
                  'MoveTask',
                  {
                    projectId: p.id,
                    taskId: task.id,
                    toColumnId: p.columns[sent % p.columns.length]!,
                    index: sent % 3,
                  },
                  { userId: p.owner.userId },
                )
              : envelope(
                  'ModifyProject',
                  { projectId: p.id, changes: { description: `burst ${sent}` } },
                  { userId: p.owner.userId },
                );
          await publishCommand(sys.messaging, projectCommands, command);
          phase.acked.set(command.id, {
            commandId: command.id,
            context: 'projects',
            op: `burst ${command.type}`,
          });
        }
      };
      await Promise.all(Array.from({ length: 64 }, send));
      const published = Date.now() - started;
      let maxAckPending = 0;
      let maxPending = 0;
      const sample = async () => {
        const info = await sys.messaging.jsm.consumers.info(stream, durable);
        maxAckPending = Math.max(maxAckPending, info.num_ack_pending);
        maxPending = Math.max(maxPending, info.num_pending + info.num_ack_pending);
        return info;
      };
      await sample();
      // crash-loop: each instance pulls a window of the backlog and dies with it unacked, until the
      // dead instances' deliveries fill the limit
      let kills = 0;
      const firstStart = Date.now();
      for (;;) {
        const before = (await sample()).num_ack_pending;
        component.start();
        // killed the moment it has pulled a window, before it could decide much of it
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && (await sample()).num_ack_pending < Math.min(limit, before + 256))
          await sleep(5);
        if ((await sample()).num_ack_pending >= limit - 16 || kills >= 16) break;
        await component.kill9();
        kills++;
      }
      await component.ready();
      // the live instance gets the rest; the dead ones' deliveries come back once their ack wait runs out
      for (;;) {
        const info = await sample();
        if (info.num_pending === 0 && info.num_ack_pending === 0) break;
        if (Date.now() - firstStart > 240_000) break;
        await sleep(100);
      }
      return [
        `${burst} commands for one board published straight to ${stream} in ${secs(published)} with projects-component down (max_ack_pending ${limit})`,
        `projects-component restarted and killed again ${kills} times while draining; ack pending peaked at ${maxAckPending}/${limit}${maxAckPending >= limit ? ' (limit reached: delivery stopped until the ack wait ran out)' : ''}, backlog at ${maxPending}`,
        `backlog drained ${secs(Date.now() - firstStart)} after the first restart`,
      ];
    },
  } satisfies Scenario,

  poison: {
    name: 'poison messages',
    async inject(phase) {
      const { sys, users } = phase;
      const { names, messaging } = sys;
      const project = users[0]!.projects[0]!;
      const lines: string[] = [];
      const put = async (what: string, subject: string, data: Uint8Array, stream: string) => {
        const ack = await messaging.js.publish(subject, data, { msgID: newId() });
        phase.poison.push({ what, stream, seq: ack.seq, subject });
        lines.push(`${what}: ${subject} (${stream} #${ack.seq})`);
      };
      const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
      await put(
        'garbage bytes on a command subject',
        names.command('projects', project.id),
        enc('\u0000not json{{'),
        names.stream('COMMANDS'),
      );
      await put(
        'a command of an unknown type',
        names.command('estimates', project.id),
        enc(envelope('LaunchRocket', { projectId: project.id }, { userId: project.owner.userId })),
        names.stream('COMMANDS'),
      );
      // on a live board: its component must read past it and its readers park it
      await put(
        'an invalid event on an entity subject',
        names.entity('projects', project.id),
        enc(envelope('TaskAdded', { projectId: project.id, title: 42 }, { userId: project.owner.userId })),
        names.stream('EVENTS'),
      );
      return lines;
    },
  } satisfies Scenario,

  restartNats: {
    name: 'restart nats-server',
    async inject({ nats }) {
      if (!nats) throw new Error('restarting NATS needs the suite’s own nats-server');
      const t = Date.now();
      await nats.restart('SIGTERM', 2000);
      return [
        `nats-server (port ${nats.port}) stopped (SIGTERM), down 2.0 s, serving again ${secs(Date.now() - t)} after the stop`,
      ];
    },
  } satisfies Scenario,

  crashNats: {
    name: 'kill -9 nats-server',
    async inject({ nats }) {
      if (!nats) throw new Error('restarting NATS needs the suite’s own nats-server');
      const t = Date.now();
      await nats.restart('SIGKILL', 1500);
      return [
        `nats-server (port ${nats.port}) killed (SIGKILL), down 1.5 s, serving again ${secs(Date.now() - t)} after the kill`,
      ];
    },
  } satisfies Scenario,

  restartPostgres: {
    name: 'restart PostgreSQL',
    async inject({ postgres, sys }) {
      if (!postgres) throw new Error('restarting PostgreSQL needs the suite’s own cluster');
      const refolds = await watchRefolds(sys);
      const t = Date.now();
      const restarted = postgres.restart('immediate', 2000); // stopped once this returns
      // no commit lands while Postgres is down: what was announced by now was committed before the stop
      await sleep(500);
      refolds.stopped();
      await restarted;
      const up = Date.now() - t;
      return [
        `PostgreSQL (port ${postgres.port}) stopped with -m immediate (every backend killed), down 2.0 s, accepting again ${secs(up)} after the stop`,
        await refolds.report(15_000),
      ];
    },
  } satisfies Scenario,
};

/**
 * Aggregators commit asynchronously: a Postgres crash may lose their last commits, which they
 * fold again from the checkpoint Postgres kept. Their notices tell how many: a command outcome
 * announced before the stop and again after the restart was in a commit the crash lost.
 */
async function watchRefolds(sys: System) {
  const before = new Map<string, Set<string>>();
  const again = new Map<string, number>();
  const lastBefore = new Map<string, number>();
  let stopped = false;
  const subs = PROJECTIONS.map((p) => {
    before.set(p.name, new Set());
    again.set(p.name, 0);
    return subscribeNotices(sys.messaging, p.name, (n) => {
      if (!stopped) {
        for (const c of n.commands) before.get(p.name)!.add(c.commandId);
        lastBefore.set(p.name, Math.max(lastBefore.get(p.name) ?? 0, n.position));
        return;
      }
      for (const c of n.commands)
        if (before.get(p.name)!.has(c.commandId)) again.set(p.name, again.get(p.name)! + 1);
    });
  });
  // right after a restart of nats-server the connection may still be reconnecting
  await waitUntil(() => sys.messaging.nc.flush().then(() => true), 15_000, 'the notices subscribed');
  return {
    stopped: () => void (stopped = true),
    /**
     * Once every aggregator's checkpoint is back past the position it announced before the stop:
     * what the crash lost has been folded again, and announced (a notice follows its commit).
     */
    async report(timeoutMs: number): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      const checkpoint = async (p: (typeof PROJECTIONS)[number]) => {
        const { rows } = await sys.pool.query<{ position: string }>(
          `SELECT position FROM ${ident(sys.names.schema(p.schema))}.checkpoints WHERE name = $1`,
          [sys.names.durable(`${p.name}-aggregator`)],
        );
        return Number(rows[0]?.position ?? 0);
      };
      const caughtUp = async () => {
        for (const p of PROJECTIONS) {
          const at = await checkpoint(p).catch(() => -1); // Postgres may still be refusing
          if (at < (lastBefore.get(p.name) ?? 0)) return false;
        }
        return true;
      };
      let done = await caughtUp();
      while (!done && Date.now() < deadline) {
        await sleep(100);
        done = await caughtUp();
      }
      await sleep(200); // the notices of those commits
      subs.forEach((s) => s.close());
      const each = PROJECTIONS.map((p) => `${p.name} ${again.get(p.name)}`).join(', ');
      return `command outcomes announced before the stop and folded again after it (commits the crash lost): ${each}${done ? '' : ` (an aggregator's checkpoint was not back past its pre-crash position within ${secs(timeoutMs)})`}`;
    },
  };
}

export interface RoundReport {
  round: number;
  scenario: string;
  injected: string[];
  load: LoadStats;
  settled: { ms: number; quiet: boolean; missing: number; busy: string[] };
  exits: Record<string, number>;
  outcomes: OutcomeReport;
  views: ViewReport[];
  parked: ParkedReport;
  ok: boolean;
  failures: string[];
}

export interface PhaseOptions {
  /** `machine`: the machine's NATS and Postgres; `private`: the suite's own of both. */
  servers: 'machine' | 'private';
  scenarios: Scenario[][];
  users: number;
  projectsPerUser: number;
  /** Each round: load for `roundMs`, the faults injected at `injectAtMs`, then one after the other. */
  roundMs: number;
  injectAtMs: number;
  rate: number;
  concurrency: number;
  settleMs?: number;
  root: string;
  log(line: string): void;
  /** Keep the temporary directory (service logs) instead of removing it. */
  keepDir?: boolean;
}

let roundCounter = 0;

/** What a running phase must undo if the process is interrupted (main.ts runs them on SIGINT/SIGTERM). */
export const cleanups = new Set<() => Promise<void>>();

/** Starts the system (and the servers it needs), runs the rounds, checks after each, cleans up. */
export async function runPhase(opts: PhaseOptions): Promise<RoundReport[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'devpie-faults-'));
  const reports: RoundReport[] = [];
  let nats: PrivateNats | undefined;
  let postgres: PrivatePostgres | undefined;
  let sys: System | undefined;
  const cleanup = async () => {
    await sys?.close().catch((err: unknown) => opts.log(`cleanup: ${String(err)}`));
    await nats?.stop();
    await postgres?.stop();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  try {
    if (opts.servers === 'private') {
      nats = await PrivateNats.start(dir);
      postgres = await PrivatePostgres.start(dir);
    }
    const natsUrl = nats?.url ?? MACHINE_NATS;
    const databaseUrl = postgres?.url ?? MACHINE_POSTGRES;
    opts.log(
      `system: NATS ${natsUrl}${nats ? ' (own)' : ''}, PostgreSQL ${databaseUrl}${postgres ? ' (own)' : ''}, logs in ${dir}`,
    );
    const t = Date.now();
    sys = await System.start({ root: opts.root, dir, natsUrl, databaseUrl });
    opts.log(
      `  nine services up in ${secs(Date.now() - t)} in namespace ${sys.namespace}, on nats-server ${sys.messaging.nc.info?.version ?? '(unknown)'}`,
    );
    const phase: Phase = { sys, users: [], acked: new Map(), poison: [], nats, postgres, log: opts.log };
    const setup = new Load(sys, { log: opts.log }, phase.users);
    await setup.setup(opts.users, opts.projectsPerUser);
    for (const [id, a] of setup.acked) phase.acked.set(id, a);
    opts.log(
      `  setup: ${phase.users.length} users, ${phase.users.length} teams, ${phase.users.reduce((n, u) => n + u.projects.length, 0)} projects (${setup.stats.acked} commands)`,
    );
    for (const faults of opts.scenarios) reports.push(await runRound(phase, faults, opts));
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
  return reports;
}

async function runRound(phase: Phase, faults: Scenario[], opts: PhaseOptions): Promise<RoundReport> {
  const round = ++roundCounter;
  const { sys } = phase;
  const name = faults.map((f) => f.name).join(' + ');
  opts.log(`\n── round ${round}: ${name} ──`);
  const load = new Load(sys, { log: opts.log }, phase.users);
  const running = load.run(opts.roundMs, opts.rate, opts.concurrency);
  const injected: string[] = [];
  const started = Date.now();
  await sleep(opts.injectAtMs);
  for (const f of faults) {
    const at = Date.now() - started;
    for (const line of await f.inject(phase)) injected.push(`+${secs(at)} ${line}`);
  }
  await running;
  for (const [id, a] of load.acked) phase.acked.set(id, a);
  const settled = await settle(sys, phase.acked.values(), opts.settleMs ?? 120_000);
  const busy = settled.quiet ? [] : await consumersBusy(sys).catch((e: unknown) => [String(e)]);
  const outcomes = await checkOutcomes(sys, phase.acked, phase.poison);
  const views = await checkViews(sys, String(round));
  const parked = await checkParked(sys, phase.poison);
  const failures: string[] = [];
  const fail = (what: string, items: string[]) => {
    if (items.length > 0) failures.push(`${what}: ${items.length} (${items.slice(0, 3).join('; ')})`);
  };
  if (!settled.quiet) failures.push(`not quiet after ${secs(settled.ms)}: ${busy.join(', ')}`);
  fail('commands without an outcome', outcomes.missing);
  fail('commands with more than one outcome', outcomes.doubled);
  fail('acknowledged commands not in COMMANDS', outcomes.ackedNotStored);
  fail('command_outcomes rows missing', outcomes.outcomeRowsMissing);
  fail('command_outcomes rows wrong', outcomes.outcomeRowsWrong);
  fail('GET /commands/:id wrong', outcomes.httpWrong);
  for (const v of views)
    for (const t of v.tables) fail(`${v.projection}.${t.table} differs from its replay`, t.differ);
  fail('parked but not injected', parked.unexpected);
  fail('injected but not parked', parked.notParked);
  if (load.stats.gaveUp > 0) failures.push(`${load.stats.gaveUp} requests still failing after their retries`);
  const report: RoundReport = {
    round,
    scenario: name,
    injected,
    load: load.stats,
    settled: { ...settled, busy },
    exits: sys.exits(),
    outcomes,
    views,
    parked,
    ok: failures.length === 0,
    failures,
  };
  for (const line of describe(report)) opts.log(line);
  return report;
}

const list = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** The round as figures: what was injected and what was verified. */
export function describe(r: RoundReport): string[] {
  const o = r.outcomes;
  const l = r.load;
  const lines = [
    'injected:',
    ...r.injected.map((x) => `  ${x}`),
    `load: ${l.requests} requests, ${l.attempts} attempts; acknowledged ${l.acked} (${list(l.byOp)})`,
    `  retried: ${list(l.retried)}`,
    `  refused by the apps (not acknowledged): ${list(l.refused)}; gave up: ${l.gaveUp}`,
    `settled: ${r.settled.quiet ? 'quiet' : 'NOT quiet'} ${secs(r.settled.ms)} after the load${r.settled.busy.length ? ` (${r.settled.busy.join(', ')})` : ''}`,
    `supervisor restarts so far (exits not injected): ${list(r.exits)}`,
    'verified:',
    `  COMMANDS: ${o.commandMessages} messages, ${o.commands} commands + ${o.poisonCommands} poison; EVENTS: ${o.eventMessages} messages`,
    `  exactly one outcome: ${o.accepted + o.rejected - o.doubled.length}/${o.commands} (${o.accepted} accepted, ${o.rejected} rejected); missing ${o.missing.length}, doubled ${o.doubled.length}`,
    `  rejections: ${list(o.rejectedBy)}`,
    `  command_outcomes rows agree with EVENTS: missing ${o.outcomeRowsMissing.length}, wrong ${o.outcomeRowsWrong.length}`,
    `  acknowledged to the driver (whole phase): ${o.acked}, not in COMMANDS ${o.ackedNotStored.length}; GET /commands/:id checked ${o.httpChecked}, wrong ${o.httpWrong.length}; sent by the apps but never acknowledged: ${o.unackedSent}`,
    ...r.views.map(
      (v) =>
        `  views ${v.projection}: replayed to #${v.position} in ${secs(v.ms)}; ` +
        v.tables
          .map(
            (t) => `${t.table} ${t.equal}/${t.live}${t.differ.length ? ` (${t.differ.length} differ)` : ''}`,
          )
          .join(', '),
    ),
    `  parked: ${r.parked.total} (${list(r.parked.byConsumer)}); not injected ${r.parked.unexpected.length}, injected but not parked ${r.parked.notParked.length}`,
    r.ok ? 'PASS' : `FAIL\n${r.failures.map((f) => `  ✗ ${f}`).join('\n')}`,
  ];
  return lines;
}
