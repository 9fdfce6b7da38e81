/** 2. Pipeline throughput and 3. latency at fixed offered loads, command published → view committed. */
import { ident } from '@devpie/client-events';
import type { TestEnv } from '@devpie/client-events/testing/servers';
import { cpuLine, cpuMark, cpuSince, rate, seconds, type Rate } from './ceilings';
import type { LatencyRun, LoadGenerator, OneBoardRun } from './load';
import type { Options } from './options';
import type { StageTimes } from './stages';
import { lastEventSeq, PROJECTIONS, settled, type System, type SystemStats } from './system';

export interface PipelineResult {
  commands: number;
  /** Where the services ran. */
  layout: string;
  /** Outcomes recorded: the mix's commands and the ones the Estimation reactor issued. */
  decided: number;
  byType: Record<string, number>;
  publish: Rate;
  /** From the first publish until every view reflects every command. */
  run: Rate;
  outcomes: SystemStats['outcomes'];
  reactorCommands: number;
  parked: number;
  conflicts: number;
  events: number;
  viewOutcomes: Record<string, number>;
  /** p50/p99 of handle() (load + decide + append); `exact` false: histogram bucket bounds. */
  handleMs: { p50: number; p99: number; exact: boolean };
  batches: SystemStats['batches'];
  cpu: string;
  /** Then commands for one new board only: as fast as one entity's commands are decided, one after another. */
  oneBoard: OneBoardRun & {
    cpu: string;
    /** Where its commands' time went (in-process layout only). */
    stages?: StageTimes;
  };
  /** CPU seconds of each service process during the run (services in their own processes only). */
  servicesCpu: Record<string, number>;
}

export async function pipeline(
  env: TestEnv,
  sys: System,
  load: LoadGenerator,
  opts: Options,
): Promise<PipelineResult> {
  await load.prepare(opts.seed, opts.commands);
  const before = await sys.stats();
  await sys.handleMs();
  const events0 = await lastEventSeq(env);
  const cpu0 = cpuMark();
  const services0 = sys.cpuByService();
  const t = performance.now();
  const published = await load.publish(opts.window);
  if (published.failed > 0) throw new Error(`${published.failed} of ${opts.commands} publishes failed`);
  const last = await settled(env, sys, 300_000);
  const run = rate(opts.commands, seconds(t));
  const cpu = cpuLine(cpuSince(cpu0));
  const servicesCpu = Object.fromEntries(
    Object.entries(sys.cpuByService()).map(([name, s]) => [name, s - (services0[name] ?? 0)]),
  );
  const after = await sys.stats();
  const outcomes = {
    accepted: after.outcomes.accepted - before.outcomes.accepted,
    rejected: after.outcomes.rejected - before.outcomes.rejected,
    duplicate: after.outcomes.duplicate - before.outcomes.duplicate,
  };
  const batches: SystemStats['batches'] = {};
  for (const [name, b] of Object.entries(after.batches)) {
    const was = before.batches[name] ?? { count: 0, events: 0 };
    batches[name] = { count: b.count - was.count, events: b.events - was.events };
  }
  const viewOutcomes: Record<string, number> = {};
  for (const p of PROJECTIONS) {
    const { rows } = await env.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${ident(env.names.schema(p.name))}.command_outcomes`,
    );
    viewOutcomes[p.name] = Number(rows[0]!.n);
  }
  const decided = outcomes.accepted + outcomes.rejected + outcomes.duplicate;
  const handleMs = await sys.handleMs();
  const oneBoardCpu0 = cpuMark();
  const oneBoardFrom = Date.now();
  sys.stages?.start();
  const oneBoardRun = await load.oneBoard({
    seed: opts.seed + 7,
    commands: opts.oneBoardCommands,
    window: opts.window,
    settleMs: 10_000,
  });
  const oneBoard = {
    ...oneBoardRun,
    cpu: cpuLine(cpuSince(oneBoardCpu0)),
    stages: sys.stages?.take(oneBoardFrom),
  };
  await settled(env, sys, 60_000);
  return {
    commands: opts.commands,
    layout: sys.layout,
    decided,
    byType: published.byType,
    publish: published.publish,
    run,
    outcomes,
    reactorCommands: decided - opts.commands,
    parked: after.parked - before.parked,
    conflicts: after.conflicts - before.conflicts,
    events: last - events0,
    viewOutcomes,
    handleMs,
    batches,
    cpu,
    oneBoard,
    servicesCpu,
  };
}

/** What the load generator measured at one offered rate, and the CPU the machine spent meanwhile. */
export interface LatencyResult extends LatencyRun {
  offered: number;
  seconds: number;
  cpu: string;
  /** Where the counted commands' time went (in-process layout only). */
  stages?: StageTimes;
}

export async function latency(
  env: TestEnv,
  sys: System,
  load: LoadGenerator,
  opts: Options,
  offered: number,
): Promise<LatencyResult> {
  const cpu0 = cpuMark();
  sys.stages?.start();
  const run = load.latency({
    seed: opts.seed + offered,
    offered,
    seconds: opts.latencySeconds,
    warmupSeconds: opts.latencyWarmupSeconds,
    population: opts.latencyPopulation,
    settleMs: 2_000,
  });
  // settled only once everything is published: the outcomes may come before the last notices
  const r = await run;
  const cpu = cpuLine(cpuSince(cpu0));
  await settled(env, sys, 120_000);
  const stages = sys.stages?.take(r.countedFrom);
  if (r.failed > 0) console.error(`  ${r.failed} publishes failed at ${offered}/s`);
  return { offered, seconds: opts.latencySeconds, ...r, cpu, stages };
}
