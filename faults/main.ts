import path from 'node:path';
import { cleanups, runPhase, scenarios, type PhaseOptions, type RoundReport, type Scenario } from './suite';

/**
 * `npm run test:faults`: the fault suite. Phase 1 runs on the machine's NATS and PostgreSQL and
 * crashes processes, fills an ack-pending limit and sends poison; phase 2 runs on the suite's own
 * nats-server and PostgreSQL cluster and restarts them. Each round checks everything; the exit
 * code is 0 only if every round passed. Flags: --rate N, --round-ms N, --users N, --keep (logs),
 * --scenarios a,b+c (only these rounds; + puts faults in one round), --private (own servers).
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const base: Omit<PhaseOptions, 'servers' | 'scenarios'> = {
    users: flag('users', 12),
    projectsPerUser: 2,
    roundMs: flag('round-ms', 10_000),
    injectAtMs: flag('inject-at-ms', 3000),
    rate: flag('rate', 40),
    concurrency: 32,
    root: path.resolve(__dirname, '..'),
    keepDir: args.includes('--keep'),
    log: (line) => console.log(line),
  };
  const s = scenarios;
  const phases: { servers: PhaseOptions['servers']; scenarios: Scenario[][] }[] = [
    {
      servers: 'machine',
      scenarios: [
        [s.killComponent],
        [s.killAggregator],
        [s.killApp],
        [s.killReactor, s.killEstimationAggregator, s.killIdentityApp],
        [s.poison],
        [s.ackPending],
      ],
    },
    { servers: 'private', scenarios: [[s.restartNats], [s.crashNats], [s.restartPostgres]] },
  ];
  // --scenarios killApp,poison[+killComponent] runs just those rounds (+ joins faults into one round)
  const only = args.indexOf('--scenarios');
  if (only >= 0) {
    const rounds = args[only + 1]!.split(',').map((r) =>
      r.split('+').map((k) => {
        const found = (s as Record<string, Scenario>)[k];
        if (!found) throw new Error(`no scenario ${k}; there are ${Object.keys(s).join(', ')}`);
        return found;
      }),
    );
    const own = rounds
      .flat()
      .some((x) => [s.restartNats, s.crashNats, s.restartPostgres].includes(x as never));
    phases.splice(0, phases.length, {
      servers: args.includes('--private') || own ? 'private' : 'machine',
      scenarios: rounds,
    });
  }
  const reports: RoundReport[] = [];
  const started = Date.now();
  for (const p of phases) {
    console.log(
      `\n════ phase: ${p.servers === 'machine' ? "the machine's NATS and PostgreSQL" : 'own nats-server and PostgreSQL'} ════`,
    );
    reports.push(...(await runPhase({ ...base, ...p })));
  }
  console.log('\n════ summary ════');
  for (const r of reports) {
    const o = r.outcomes;
    const views = r.views.reduce((n, v) => n + v.tables.reduce((m, t) => m + t.equal, 0), 0);
    const rows = r.views.reduce((n, v) => n + v.tables.reduce((m, t) => m + t.live, 0), 0);
    console.log(
      `${r.ok ? 'PASS' : 'FAIL'}  round ${String(r.round).padEnd(2)} acked ${String(r.load.acked).padStart(4)}  ` +
        `commands ${String(o.commands).padStart(5)}, one outcome ${String(o.accepted + o.rejected - o.doubled.length).padStart(5)}  ` +
        `view rows = replay ${views}/${rows}  parked ${r.parked.total} (unexpected ${r.parked.unexpected.length})  ${r.scenario}`,
    );
  }
  const failed = reports.filter((r) => !r.ok).length;
  console.log(
    `${reports.length - failed}/${reports.length} rounds passed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return failed === 0 ? 0 : 1;
}

// interrupted: stop the services and the suite's own servers, drop what the namespace created
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
