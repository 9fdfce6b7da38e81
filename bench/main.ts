/**
 * `npm run bench`: the system's benchmark on the machine's real NATS and Postgres, in a private
 * namespace (openTestEnv) removed at the end, even on error. Each figure is printed beside its
 * target (DESIGN.md, issue 8) as PASS or FAIL; bench/results/latest.json keeps the whole run.
 *
 *   npm run bench -- [--quick] [--commands N] [--replay N] [--hydration N] [--loads 200,1000,3000]
 *                    [--latency-seconds S] [--latency-warmup S] [--latency-boards N] [--seed N]
 *                    [--only pipeline,latency,...]
 *                    [--layout in-process,processes]
 *
 * 1. Ceilings (bench/ceilings.ts): JetStream acked publish, durable consume + ack, ordered replay,
 *    Postgres jsonb upsert.
 * 2. Pipeline: a mix of identity, projects and estimation commands published straight to COMMANDS
 *    (256 in flight) while the three components and the three aggregators run in this process;
 *    commands/s from the first publish until every command has its outcome and every aggregator's
 *    position has reached the last sequence of EVENTS.
 * 3. Latency: the same mix offered at fixed rates (open loop) from a population of users and boards,
 *    after a warm-up reported apart; command due to be published → the aggregator's notice that its
 *    outcome is committed in the view (notices' commands[].commandId).
 * 5. Replay: a fresh projects aggregator catching up over EVENTS after ≥ N generated events.
 * 6. Hydration: deciding one command on a project with N prior events, cold (fresh EntityStore:
 *    snapshot + tail) and warm (cached).
 * 3b/4. HTTP (bench/http.ts): `Prefer: wait` latency and autocannon ingress against the three apps.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTestEnv } from '@devpie/client-events/testing/servers';
import {
  cpuMark,
  cpuSince,
  fmt,
  jsonCeiling,
  natsCeilings,
  natsGoMaxProcs,
  postgresCeilings,
  seconds,
  sleep,
  type Ceilings,
} from './ceilings';
import { httpBench, type HttpResult } from './http';
import { hydration, type HydrationResult } from './hydration';
import { readOptions } from './options';
import { LoadGenerator } from './load';
import { latency, pipeline, type LatencyResult, type PipelineResult } from './pipeline';
import { replay, type ReplayResult } from './replay';
import {
  ceilingRows,
  httpRows,
  hydrationRows,
  latencyRows,
  details,
  pipelineRows,
  printTable,
  replayRows,
  type SectionReport,
} from './report';
import { startSystem, type System } from './system';

async function main() {
  const opts = readOptions();
  const want = (s: Parameters<typeof opts.only.has>[0]) => opts.only.has(s);
  const started = performance.now();
  const env = await openTestEnv();
  let sys: System | undefined;
  let load: LoadGenerator | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (sys) await Promise.race([sys.stop(), sleep(10_000)]).catch((e: unknown) => console.error(e));
      await load?.close();
      await env.close();
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: removing namespace ${env.names.namespace}`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const sections: SectionReport[] = [];
  let ceilings: Ceilings | undefined;
  const pipes: PipelineResult[] = [];
  const latencies: LatencyResult[] = [];
  let http: HttpResult | undefined;
  let rep: ReplayResult | undefined;
  let hyd: HydrationResult | undefined;
  try {
    if (want('ceilings')) {
      console.error(`namespace ${env.names.namespace}: ceilings…`);
      const cleanups: (() => Promise<void>)[] = [];
      const cpu0 = cpuMark();
      ceilings = {
        messageBytes: 800,
        ...(await natsCeilings(env, opts, cleanups)),
        ...(await postgresCeilings(env, opts)),
        ...jsonCeiling(),
        cpu: cpuSince(cpu0),
      };
      for (const c of cleanups) await c();
      sections.push(ceilingRows(ceilings));
    }

    // the first layout also carries the latency section
    for (const [i, layout] of opts.layouts.entries()) {
      const runPipeline = want('pipeline');
      const runLatency = want('latency') && i === 0;
      if (!runPipeline && !runLatency) continue;
      console.error(`pipeline: starting the components and aggregators (${layout})…`);
      sys = await startSystem(env, layout);
      load ??= await LoadGenerator.start(env.names.namespace);
      if (runPipeline) {
        console.error(`pipeline: ${fmt(opts.commands)} commands…`);
        const pipe = await pipeline(env, sys, load, opts);
        pipes.push(pipe);
        sections.push(pipelineRows(pipe, ceilings));
      }
      if (runLatency) {
        for (const offered of opts.loads) {
          console.error(`latency: ${offered} commands/s for ${opts.latencySeconds} s…`);
          latencies.push(await latency(env, sys, load, opts, offered));
        }
        sections.push(latencyRows(latencies, sys.layout));
      }
      await sys.stop();
      sys = undefined;
    }

    if (want('http')) {
      console.error('http: the three apps, Prefer: wait and autocannon…');
      load ??= await LoadGenerator.start(env.names.namespace);
      http = await httpBench({ ...opts.http, load });
      sections.push(httpRows(http, opts.http));
    }
    if (want('replay')) {
      rep = await replay(env, opts);
      sections.push(replayRows(rep, ceilings, opts.replayEvents));
    }
    if (want('hydration')) {
      hyd = await hydration(env, opts);
      sections.push(hydrationRows(hyd));
    }

    const rows = sections.flatMap((s) => s.rows);
    const problems = sections.flatMap((s) => s.problems);
    // 2.10+ filters each aggregator's consumer to its categories; 2.9 sends them all of EVENTS
    const natsVersion = env.messaging.nc.info?.version ?? 'unknown';
    console.log(
      `\nBenchmark${opts.quick ? ' (quick)' : ''} — node ${process.version}, ${os.cpus().length} cores, ` +
        `nats-server ${natsVersion} (GOMAXPROCS ${natsGoMaxProcs().join(', ') || 'not found'}), ${fmt(seconds(started), 1)} s`,
    );
    printTable(rows);
    console.log('');
    for (const line of details(pipes, latencies, rep, http)) console.log(`  ${line}`);
    for (const p of problems) console.log(`  CHECK FAILED: ${p}`);
    const failed = rows.filter((r) => r.pass === false).length;
    console.log(`\n  ${rows.filter((r) => r.pass).length} targets met, ${failed} missed`);

    const out = path.join(__dirname, 'results', 'latest.json');
    mkdirSync(path.dirname(out), { recursive: true });
    const report = {
      at: new Date().toISOString(),
      host: {
        node: process.version,
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        natsVersion,
        natsGoMaxProcs: natsGoMaxProcs(),
      },
      options: { ...opts, only: [...opts.only] },
      seconds: seconds(started),
      rows,
      ceilings,
      pipeline: pipes,
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
