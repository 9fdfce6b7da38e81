/** The bench's table: each figure beside its target, PASS or FAIL. */
import { fmt, type Ceilings } from './ceilings';
import type { HttpResult } from './http';
import type { HydrationResult } from './hydration';
import type { LatencyResult, PipelineResult } from './pipeline';
import type { ReplayResult } from './replay';
import type { StageTimes } from './stages';

export interface Row {
  section: string;
  figure: string;
  value: number;
  unit: string;
  target?: { op: '≥' | '≤'; value: number; unit?: string };
  pass?: boolean;
}

export function row(
  section: string,
  figure: string,
  value: number,
  unit: string,
  target?: Row['target'],
): Row {
  const pass =
    target === undefined ? undefined : target.op === '≥' ? value >= target.value : value <= target.value;
  return { section, figure, value, unit, target, pass };
}

export function printTable(rows: Row[]) {
  const num = (v: number, unit: string) =>
    `${fmt(v, (unit === 'ms' || unit === 'pub/cmd') && v < 10 ? 2 : unit === '%' || unit === 'ms' ? 1 : 0)} ${unit}`.padStart(
      14,
    );
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

/** What a section adds to the report: its rows, and checks that failed (which fail the run). */
export interface SectionReport {
  rows: Row[];
  problems: string[];
}

export function ceilingRows(c: Ceilings): SectionReport {
  const C = `1. ceilings (${c.messageBytes}-byte messages)`;
  return {
    rows: [
      row(C, 'JetStream acked publish, one at a time', c.publishSerial.perSecond, 'msg/s'),
      row(C, 'JetStream acked publish, 256 in flight', c.publishWindowed.perSecond, 'msg/s'),
      row(C, '  + Nats-Msg-Id + expected last subject seq', c.publishWindowedOcc.perSecond, 'msg/s'),
      row(C, 'JetStream durable consume + ack', c.durableConsume.perSecond, 'msg/s'),
      row(C, 'JetStream ordered replay', c.orderedReplay.perSecond, 'msg/s'),
      row(C, 'Postgres jsonb upsert, batches of 500, async commit', c.upsertBatched.perSecond, 'rows/s'),
      row(C, 'Postgres jsonb upsert, one row per transaction, async', c.upsertSingle.perSecond, 'rows/s'),
      row(C, 'this process: JSON stringify + parse of a message', c.jsonRoundTrips.perSecond, 'msg/s'),
    ],
    problems: [],
  };
}

/**
 * Acknowledged JetStream publishes per command of the mix: its own, the reactor's commands it
 * caused, and every event appended. At the windowed ceiling's rate, with nothing else to do, the
 * pipeline would reach 1 / this of that ceiling.
 */
export function acknowledgedPublishesPerCommand(
  pipe: Pick<PipelineResult, 'commands' | 'decided' | 'events'>,
): number {
  return (pipe.decided + pipe.events) / pipe.commands;
}

export function pipelineRows(pipe: PipelineResult, c: Ceilings | undefined): SectionReport {
  const P = `2. pipeline (${fmt(pipe.commands)} commands, ${pipe.layout})`;
  const rows = [
    row(P, 'publishCommand, 256 in flight (while the pipeline runs)', pipe.publish.perSecond, 'cmd/s'),
    row(P, 'sustained: published → every view reflects every command', pipe.run.perSecond, 'cmd/s', {
      op: '≥',
      value: 3_000,
    }),
  ];
  if (c) {
    const ratio = (100 * pipe.run.perSecond) / c.publishWindowed.perSecond;
    rows.push(row(P, '  ÷ windowed publish ceiling', ratio, '%', { op: '≥', value: 40 }));
    // the ratio's bound: each command decided and each event appended is one acked publish
    const publishes = acknowledgedPublishesPerCommand(pipe);
    rows.push(row(P, '  acked publishes per command (commands decided + events)', publishes, 'pub/cmd'));
    rows.push(row(P, '  ÷ windowed ceiling, were those publishes all the work', 100 / publishes, '%'));
  }
  rows.push(
    row(P, '  commands decided per second (the mix + the reactor)', pipe.decided / pipe.run.seconds, 'cmd/s'),
  );
  rows.push(row(P, '  events appended per second', pipe.events / pipe.run.seconds, 'ev/s'));
  const one = pipe.oneBoard;
  rows.push(
    row(
      P,
      `then ${fmt(one.commands)} commands for one board, ${one.window} publishes in flight`,
      one.run.perSecond,
      'cmd/s',
    ),
    row(P, '  each published → its view committed, p50', one.ms.p50, 'ms'),
    row(P, '  each published → its view committed, p99', one.ms.p99, 'ms'),
  );
  const problems: string[] = [];
  if (one.seen < one.commands) problems.push(`one board: ${one.commands - one.seen} commands had no notice`);
  if (pipe.parked > 0) problems.push(`${pipe.parked} messages parked during the pipeline`);
  if (pipe.reactorCommands < 0)
    problems.push(`only ${pipe.commands + pipe.reactorCommands} outcomes for ${pipe.commands} commands`);
  return { rows, problems };
}

export function latencyRows(latencies: LatencyResult[], layout: string): SectionReport {
  const L = `3. latency, command published → view committed (notice; ${layout})`;
  const rows: Row[] = [];
  const problems: string[] = [];
  for (const l of latencies) {
    const tag = `${fmt(l.offered)}/s offered (${fmt(l.achieved)}/s sent)`;
    rows.push(row(L, `${tag} p50`, l.ms.p50, 'ms'));
    rows.push(row(L, `${tag} p95`, l.ms.p95, 'ms'));
    rows.push(row(L, `${tag} p99`, l.ms.p99, 'ms', l.offered === 1_000 ? { op: '≤', value: 50 } : undefined));
    if (l.warmup.sent > 0) rows.push(row(L, `  its warm-up (not counted) p99`, l.warmup.ms.p99, 'ms'));
    const unseen = l.sent - l.seen + (l.warmup.sent - l.warmup.seen);
    if (unseen > 0)
      problems.push(
        `latency at ${l.offered}/s: ${unseen} of ${l.sent + l.warmup.sent} commands had no notice`,
      );
  }
  return { rows, problems };
}

export function httpRows(http: HttpResult, o: { connections: number; seconds: number }): SectionReport {
  const L = '3b. latency, HTTP request → response (the three apps in the bench process)';
  const W = 'HTTP POST task with Prefer: wait → 201, one at a time,';
  const rows = [
    row(L, `${W} p50`, http.preferWait.ms.p50, 'ms'),
    row(L, `${W} p95`, http.preferWait.ms.p95, 'ms'),
    row(L, `${W} p99`, http.preferWait.ms.p99, 'ms'),
  ];
  for (const w of http.waitAtRates) {
    const tag = `HTTP POST task with Prefer: wait at ${fmt(w.offered)}/s (${fmt(w.achieved)}/s sent),`;
    rows.push(row(L, `${tag} p50`, w.ms.p50, 'ms'));
    rows.push(row(L, `${tag} p99`, w.ms.p99, 'ms'));
    // a 202 is no failure (the command is accepted; the view was slower than the wait)
    rows.push(row(L, '  answered other than 201 (or failed)', w.notCreated + w.errors, 'req'));
  }
  const problems: string[] = [];
  if (http.preferWait.created < http.preferWait.requests) {
    problems.push(
      `Prefer: wait: ${http.preferWait.requests - http.preferWait.created} requests did not answer 201`,
    );
  }
  const I = `4. HTTP ingress (autocannon, ${o.connections} connections, ${o.seconds} s each, authenticated)`;
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
  return { rows, problems };
}

export function replayRows(rep: ReplayResult, c: Ceilings | undefined, wanted: number): SectionReport {
  const R = `5. replay (fresh projects aggregator over ${fmt(rep.events)} events)`;
  const rows = [
    row(R, 'events generated (publish, 25 boards in flight)', rep.generate.perSecond, 'ev/s'),
    row(R, 'catch-up from start() to the last sequence', rep.run.perSecond, 'ev/s', {
      op: '≥',
      value: 25_000,
    }),
  ];
  if (c) {
    const ceiling = Math.min(c.orderedReplay.perSecond, c.upsertBatched.perSecond);
    rows.push(
      row(R, '  ÷ min(ordered replay, batched upsert)', (100 * rep.run.perSecond) / ceiling, '%', {
        op: '≥',
        value: 60,
      }),
    );
  }
  rows.push(
    row(R, 'peak RSS during the catch-up (sampled every 100 ms)', rep.peakRssMiB, 'MiB'),
    row(R, '  RSS when it started (the bench process so far)', rep.startRssMiB, 'MiB'),
  );
  const problems = rep.events < wanted ? [`replay ran over ${rep.events} events, fewer than ${wanted}`] : [];
  return { rows, problems };
}

export function hydrationRows(hyd: HydrationResult): SectionReport {
  const H = `6. hydration (a project with ${fmt(hyd.priorEvents)} prior events; load + decide)`;
  return {
    rows: [
      row(H, 'cold (fresh EntityStore: snapshot + tail), median', hyd.coldMs.p50, 'ms', {
        op: '≤',
        value: 20,
      }),
      row(H, 'warm (cached), median', hyd.warmMs.p50, 'ms', { op: '≤', value: 2 }),
    ],
    problems: [],
  };
}

/** The lines under the table that explain the pipeline's, the latency's and the HTTP runs' figures. */
export function details(
  pipes: PipelineResult[],
  latencies: LatencyResult[],
  rep?: ReplayResult,
  http?: HttpResult,
): string[] {
  const lines: string[] = [];
  if (rep) lines.push(`replay ${rep.cpu}`);
  if (http) {
    const drains = http.drains.map((d) => `${d.before} ${fmt(d.seconds, 1)} s`);
    lines.push(`HTTP: the backlog each run found drained first: ${drains.join(', ')}`);
  }
  for (const pipe of pipes) {
    lines.push(`pipeline — ${pipe.layout}:`);
    lines.push(`pipeline mix: ${JSON.stringify(pipe.byType)}`);
    lines.push(
      `outcomes: ${JSON.stringify(pipe.outcomes)} (${pipe.reactorCommands} issued by the Estimation reactor); ` +
        `conflicts ${pipe.conflicts}; parked ${pipe.parked}; view command_outcomes ${JSON.stringify(pipe.viewOutcomes)}`,
    );
    lines.push(`pipeline ${pipe.cpu}`);
    const services = Object.entries(pipe.servicesCpu).sort((a, b) => b[1] - a[1]);
    if (services.length > 0) {
      lines.push(`pipeline CPU by service: ${services.map(([n, s]) => `${n} ${fmt(s, 2)} s`).join(', ')}`);
    }
    lines.push(
      `pipeline handle() per command (load + decide + append): p50 ${pipe.handleMs.exact ? '' : '≤ '}` +
        `${fmt(pipe.handleMs.p50, 1)} ms, p99 ${pipe.handleMs.exact ? '' : '≤ '}${fmt(pipe.handleMs.p99, 1)} ms; ` +
        'aggregator batches committed: ' +
        Object.entries(pipe.batches)
          .map(([a, b]) => `${a} ${fmt(b.count)} of ${fmt(b.events / Math.max(1, b.count), 1)} events`)
          .join('; '),
    );
    const one = pipe.oneBoard;
    if (one.stages) lines.push(`then one board, by stage: ${stageLine(one.stages)}`);
    lines.push(`then one board, ${one.cpu}`);
  }
  for (const l of latencies) {
    const parts = Object.entries(l.byType).map(([t, v]) => `${t} ${fmt(v.p50)}/${fmt(v.p99)}`);
    lines.push(
      `latency at ${fmt(l.offered)}/s: from a population of ${fmt(l.population.commands)} sign-ups and boards ` +
        `(folded in ${fmt(l.population.seconds, 1)} s), then ${fmt(l.warmup.sent)} commands of warm-up ` +
        `(p50 ${fmt(l.warmup.ms.p50, 1)} / p99 ${fmt(l.warmup.ms.p99, 1)} ms) and ${fmt(l.sent)} counted`,
    );
    lines.push(`latency at ${fmt(l.offered)}/s by type, p50/p99 ms: ${parts.join(', ')}`);
    if (l.stages) lines.push(`latency at ${fmt(l.offered)}/s by stage: ${stageLine(l.stages)}`);
    lines.push(`latency at ${fmt(l.offered)}/s ${l.cpu}`);
  }
  return lines;
}

/** Stage → p50/p99. A reactor's command carries its cause's time: its stages count from the user's command. */
const stageLine = (stages: StageTimes): string =>
  'ms since the command was created, p50/p99: ' +
  Object.entries(stages)
    .map(([s, v]) => `${s} ${fmt(v.p50)}/${fmt(v.p99)}`)
    .join(', ');
