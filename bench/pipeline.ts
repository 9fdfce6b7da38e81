/** 2. Pipeline throughput and 3. latency at fixed offered loads, command published → view committed. */
import { ident, publishCommand, subscribeNotices } from '@devpie/client-events';
import type { TestEnv } from '@devpie/client-events/testing/servers';
import { cpuLine, cpuMark, cpuSince, rate, seconds, sleep, windowed, type Rate } from './ceilings';
import { commandMix } from './mix';
import type { Options } from './options';
import { percentiles, type Percentiles } from './percentiles';
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
}

export async function pipeline(env: TestEnv, sys: System, opts: Options): Promise<PipelineResult> {
  const mix = commandMix(opts.seed);
  const work = Array.from({ length: opts.commands }, () => mix.next());
  const before = await sys.stats();
  await sys.handleMs();
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
  return {
    commands: work.length,
    layout: sys.layout,
    decided,
    byType: mix.byType,
    publish,
    run,
    outcomes,
    reactorCommands: decided - work.length,
    parked: after.parked - before.parked,
    conflicts: after.conflicts - before.conflicts,
    events: last - events0,
    viewOutcomes,
    handleMs: await sys.handleMs(),
    batches,
    cpu,
  };
}

export interface LatencyResult {
  offered: number;
  seconds: number;
  sent: number;
  achieved: number;
  seen: number;
  ms: Percentiles;
  /** p50 and p99 by command type (ms). */
  byType: Record<string, { count: number; p50: number; p99: number }>;
}

export async function latency(
  env: TestEnv,
  sys: System,
  opts: Options,
  offered: number,
): Promise<LatencyResult> {
  const mix = commandMix(opts.seed + offered);
  const total = offered * opts.latencySeconds;
  const sentAt = new Map<string, number>();
  const typeOf = new Map<string, string>();
  const perType = new Map<string, number[]>();
  const samples: number[] = [];
  const watchers = PROJECTIONS.map((p) =>
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
