/**
 * The load generator: a child process of the bench that publishes the command mix to COMMANDS and,
 * for the latency section, watches the aggregators' notices. The system's commands come from the
 * applications, other processes: generating and observing the load in the bench's own thread took
 * CPU from the in-process services it measures.
 *
 * The parent drives it over IPC (`LoadGenerator`); run directly, this file is the child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import {
  connectMessaging,
  Names,
  publishCommand,
  subscribeNotices,
  type Messaging,
} from '@devpie/client-events';
import { TEST_NATS_URL } from '@devpie/client-events/testing/servers';
import { LOAD_TITLE, rate, seconds, sleep, windowed, type Rate } from './ceilings';
import { commandMix, type CommandMix, type Generated } from './mix';
import { percentiles, type Percentiles } from './percentiles';
import { PROJECTIONS } from './system';

export interface PublishRun {
  publish: Rate;
  byType: Record<string, number>;
  failed: number;
}

export interface LatencyRequest {
  seed: number;
  offered: number;
  seconds: number;
  /** Offered first at the same rate, timed but not counted: the run's start is reported apart. */
  warmupSeconds: number;
  /** Sign-ups and boards created (and folded) before the clock starts. */
  population: { users: number; boards: number };
  /** How long to wait for the outstanding notices once nothing new arrives. */
  settleMs: number;
}

export interface LatencyRun {
  /** Counted commands (after the warm-up). */
  sent: number;
  /** Commands/s actually offered, warm-up included. */
  achieved: number;
  seen: number;
  failed: number;
  ms: Percentiles;
  warmup: { sent: number; seen: number; ms: Percentiles };
  population: { commands: number; seconds: number };
  /** p50 and p99 by command type (ms). */
  byType: Record<string, { count: number; p50: number; p99: number }>;
  /** When the first counted command was created (epoch ms): the commands created since are the counted ones. */
  countedFrom: number;
}

export interface OneBoardRequest {
  seed: number;
  commands: number;
  window: number;
  settleMs: number;
}

export interface OneBoardRun {
  commands: number;
  /** Commands in flight. */
  window: number;
  seen: number;
  failed: number;
  /** From the first publish until the last outcome's notice. */
  run: Rate;
  ms: Percentiles;
}

/** An HTTP request the generator sends at a fixed rate (open loop). */
export interface HttpTarget {
  method: 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpRateRun {
  offered: number;
  /** Requests sent per second, as achieved by the generator. */
  achieved: number;
  ms: Percentiles;
  /** Responses by status code; `failed`: no response (a network error). */
  statuses: Record<string, number>;
  failed: number;
}

type Request =
  | { kind: 'prepare'; seed: number; commands: number }
  | { kind: 'publish'; window: number }
  | ({ kind: 'latency' } & LatencyRequest)
  | ({ kind: 'oneBoard' } & OneBoardRequest)
  | { kind: 'http'; targets: HttpTarget[]; offered: number; seconds: number }
  | { kind: 'close' };

type Reply = { ok: true; result?: unknown } | { ok: false; error: string };

/** The bench's side: one child for the whole run, one request at a time. */
export class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async start(namespace: string): Promise<LoadGenerator> {
    const child = fork(__filename, [namespace], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DEVPIE_LOAD_CHILD: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const gen = new LoadGenerator(child);
    await gen.request<undefined>(undefined);
    return gen;
  }

  /** Generates the mix's commands (outside the measured time). */
  prepare(seed: number, commands: number): Promise<void> {
    return this.request({ kind: 'prepare', seed, commands });
  }

  /** Publishes the prepared commands, `window` in flight. */
  publish(window: number): Promise<PublishRun> {
    return this.request({ kind: 'publish', window });
  }

  /**
   * Creates the population, then offers the mix at `offered`/s for `warmupSeconds` (reported apart)
   * and `seconds` (counted); command due to be published → its outcome's notice.
   */
  latency(req: LatencyRequest): Promise<LatencyRun> {
    return this.request({ kind: 'latency', ...req });
  }

  /** Publishes `commands` for one new board, `window` in flight; each command published → its outcome's notice. */
  oneBoard(req: OneBoardRequest): Promise<OneBoardRun> {
    return this.request({ kind: 'oneBoard', ...req });
  }

  /**
   * Sends the targets' requests (in turn) at `offered`/s for one uncounted second and then
   * `seconds`, each on schedule whether or not the ones before it were answered: request due →
   * response, per request. Statuses count every request.
   */
  http(targets: HttpTarget[], offered: number, secs: number): Promise<HttpRateRun> {
    return this.request({ kind: 'http', targets, offered, seconds: secs });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ kind: 'close' } satisfies Request);
    await Promise.race([exited, sleep(5_000)]);
    this.child.kill('SIGKILL');
  }

  /** Sends a request (none: waits for the child's first "ready") and waits for its reply. */
  private request<T>(req: Request | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: Reply) => {
        this.child.off('exit', onExit);
        if (reply.ok) resolve(reply.result as T);
        else reject(new Error(`load generator: ${reply.error}`));
      });
      if (req) this.child.send(req);
    });
  }
}

async function child(namespace: string) {
  process.title = LOAD_TITLE;
  const messaging = await connectMessaging({
    servers: TEST_NATS_URL,
    name: 'bench-load',
    names: new Names(namespace),
  });
  let work: Generated[] = [];
  let byType: Record<string, number> = {};

  async function publish(window: number): Promise<PublishRun> {
    let failed = 0;
    const t = performance.now();
    await windowed(work.length, window, (i) =>
      publishCommand(messaging, work[i]!.set, work[i]!.command).catch(() => void failed++),
    );
    const run = { publish: rate(work.length, seconds(t)), byType, failed };
    work = [];
    return run;
  }

  /** Publishes the population as fast as the system takes it and waits until it is folded. */
  async function populate(
    watch: OutcomeWatch,
    mix: CommandMix,
    users: number,
    boards: number,
    settleMs: number,
  ) {
    const t = performance.now();
    const population = mix.population(users, boards);
    let seen = 0;
    let failed = 0;
    await windowed(population.length, 256, (i) => {
      const g = population[i]!;
      watch.expect(g.command.id, performance.now(), () => void seen++);
      return publishCommand(messaging, g.set, g.command).catch(() => void failed++);
    });
    await untilSeen(() => seen, population.length - failed, settleMs);
    if (seen < population.length)
      throw new Error(`${population.length - seen} of the population had no outcome`);
    return { commands: population.length, seconds: seconds(t) };
  }

  async function latency(req: LatencyRequest): Promise<LatencyRun> {
    const mix = commandMix(req.seed);
    const warmup = req.offered * req.warmupSeconds;
    const total = warmup + req.offered * req.seconds;
    const samples: number[] = [];
    const warmupSamples: number[] = [];
    const perType = new Map<string, number[]>();
    const watch = await watchOutcomes(messaging);
    const population = await populate(watch, mix, req.population.users, req.population.boards, req.settleMs);
    const publishes: Promise<unknown>[] = [];
    let failed = 0;
    let n = 0;
    let countedFrom = Infinity;
    const { sent, elapsed } = await openLoop(req.offered, total, (dueAt) => {
      // commands are created in order (their metadata.time): from here on, the counted ones
      if (n === warmup) countedFrom = Date.now();
      const g = mix.next();
      const seen =
        n++ < warmup
          ? (ms: number) => void warmupSamples.push(ms)
          : (ms: number) => {
              samples.push(ms);
              let list = perType.get(g.command.type);
              if (!list) perType.set(g.command.type, (list = []));
              list.push(ms);
            };
      watch.expect(g.command.id, dueAt, seen);
      publishes.push(publishCommand(messaging, g.set, g.command).catch(() => void failed++));
    });
    await Promise.all(publishes);
    // every outcome's notice, or none for `settleMs` (an overloaded system is still draining)
    await untilSeen(() => samples.length + warmupSamples.length, total - failed, req.settleMs);
    watch.close();
    return {
      sent: sent - warmup,
      achieved: sent / elapsed,
      seen: samples.length,
      failed,
      ms: percentiles(samples),
      warmup: { sent: warmup, seen: warmupSamples.length, ms: percentiles(warmupSamples) },
      population,
      countedFrom,
      byType: Object.fromEntries(
        [...perType].map(([type, v]) => {
          const p = percentiles(v);
          return [type, { count: p.count, p50: p.p50, p99: p.p99 }];
        }),
      ),
    };
  }

  async function oneBoard(req: OneBoardRequest): Promise<OneBoardRun> {
    const mix = commandMix(req.seed);
    const watch = await watchOutcomes(messaging);
    await populate(watch, mix, 1, 1, req.settleMs);
    const work = Array.from({ length: req.commands }, () => mix.nextOnBoard(0));
    const samples: number[] = [];
    let failed = 0;
    const t = performance.now();
    await windowed(work.length, req.window, (i) => {
      const g = work[i]!;
      watch.expect(g.command.id, performance.now(), (ms) => void samples.push(ms));
      return publishCommand(messaging, g.set, g.command).catch(() => void failed++);
    });
    await untilSeen(() => samples.length, work.length - failed, req.settleMs);
    const run = rate(samples.length, seconds(t));
    watch.close();
    return {
      commands: work.length,
      window: req.window,
      seen: samples.length,
      failed,
      run,
      ms: percentiles(samples),
    };
  }

  async function http(targets: HttpTarget[], offered: number, secs: number): Promise<HttpRateRun> {
    // the first second is not counted: the client and the apps open their connections during it
    const warmup = offered;
    const total = warmup + offered * secs;
    const samples: number[] = [];
    const statuses: Record<string, number> = {};
    const inFlight: Promise<void>[] = [];
    let failed = 0;
    let n = 0;
    const { sent, elapsed } = await openLoop(offered, total, (dueAt) => {
      const target = targets[n % targets.length]!;
      const counted = n++ >= warmup;
      inFlight.push(
        fetch(target.url, { method: target.method, headers: target.headers, body: target.body }).then(
          async (res) => {
            await res.arrayBuffer();
            if (counted) samples.push(performance.now() - dueAt);
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          },
          () => void failed++,
        ),
      );
    });
    await Promise.all(inFlight);
    return { offered, achieved: sent / elapsed, ms: percentiles(samples), statuses, failed };
  }

  const reply = (r: Reply) => process.send!(r);
  reply({ ok: true });
  process.on('message', (req: Request) => {
    void (async () => {
      switch (req.kind) {
        case 'prepare': {
          const mix = commandMix(req.seed);
          work = Array.from({ length: req.commands }, () => mix.next());
          byType = mix.byType;
          return undefined;
        }
        case 'publish':
          return publish(req.window);
        case 'latency':
          return latency(req);
        case 'oneBoard':
          return oneBoard(req);
        case 'http':
          return http(req.targets, req.offered, req.seconds);
        case 'close':
          await messaging.nc.close();
          process.exit(0);
      }
    })().then(
      (result) => reply({ ok: true, result }),
      (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.env.DEVPIE_LOAD_CHILD === '1' && require.main === module) void child(process.argv[2]!);

interface OutcomeWatch {
  /** Calls `seen` with the ms from `at` to the notice that the command's outcome is committed. */
  expect(commandId: string, at: number, seen: (ms: number) => void): void;
  close(): void;
}

/** The aggregators' notices, matched to the commands the generator expects (subscribed once it resolves). */
async function watchOutcomes(messaging: Messaging): Promise<OutcomeWatch> {
  const due = new Map<string, { at: number; seen: (ms: number) => void }>();
  const subscriptions = PROJECTIONS.map((p) =>
    subscribeNotices(messaging, p.name, (notice) => {
      const now = performance.now();
      for (const c of notice.commands) {
        const d = due.get(c.commandId);
        if (d === undefined) continue;
        due.delete(c.commandId);
        d.seen(now - d.at);
      }
    }),
  );
  await messaging.nc.flush();
  return {
    expect: (commandId, at, seen) => void due.set(commandId, { at, seen }),
    close: () => subscriptions.forEach((s) => s.close()),
  };
}

/** Waits until `count()` reaches `target`, or it has not moved for `quietMs`. */
async function untilSeen(count: () => number, target: number, quietMs: number): Promise<void> {
  let seen = count();
  let quietSince = performance.now();
  while (count() < target && performance.now() - quietSince < quietMs) {
    await sleep(20);
    if (count() !== seen) [seen, quietSince] = [count(), performance.now()];
  }
}

/**
 * Calls `send` `total` times at `offered`/s on a fixed schedule, whether or not earlier sends were
 * answered (an open loop). `dueAt` is when the send was due (performance.now() time): latency is
 * timed from it, not from when this loop got round to it, so that a late loop is no shorter wait
 * (coordinated omission).
 */
async function openLoop(
  offered: number,
  total: number,
  send: (dueAt: number) => void,
): Promise<{ sent: number; elapsed: number }> {
  let sent = 0;
  const t = performance.now();
  while (sent < total) {
    // send i is due at t + i/offered: the first at once
    const due = Math.min(total, Math.floor(((performance.now() - t) / 1000) * offered) + 1);
    for (; sent < due; sent++) send(t + (sent * 1000) / offered);
    // until the next send is due (never late by more than a timer's 1 ms): a wake-up every
    // millisecond whatever the rate cost the load generator a sixth of a core at 20/s here
    if (sent < total) await sleep(Math.max(1, Math.floor(t + (sent * 1000) / offered - performance.now())));
  }
  return { sent, elapsed: seconds(t) };
}
