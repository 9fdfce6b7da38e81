import path from 'node:path';
import { runPhase, scenarios } from './suite';

/**
 * The fault suite's short form, for CI: the nine services as processes on the suite's own
 * nats-server and PostgreSQL, under HTTP load, through two rounds — kill -9 a component, an
 * aggregator and an app and send poison; then restart nats-server and PostgreSQL — each checked
 * (one outcome per command, views equal to a fresh replay, only the poison parked).
 * `npm run test:faults` runs the long form.
 */
test('crashes, restarts and poison lose nothing, double nothing and park only the poison', async () => {
  const lines: string[] = [];
  const reports = await runPhase({
    servers: 'private',
    scenarios: [
      [scenarios.killComponent, scenarios.killAggregator, scenarios.killApp, scenarios.poison],
      [scenarios.restartNats, scenarios.restartPostgres],
    ],
    users: 4,
    projectsPerUser: 1,
    roundMs: 5000,
    injectAtMs: 1000,
    rate: 25,
    concurrency: 16,
    settleMs: 45_000,
    root: path.resolve(__dirname, '..'),
    log: (line) => lines.push(line),
  });
  const failed = reports.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(lines.join('\n'));
  expect(reports.map((r) => r.outcomes.missing.length + r.outcomes.doubled.length)).toEqual([0, 0]);
  expect(reports.every((r) => r.outcomes.acked > 0 && r.outcomes.ackedNotStored.length === 0)).toBe(true);
  expect(reports[0]!.parked.unexpected).toEqual([]);
  expect(reports[0]!.parked.notParked).toEqual([]);
}, 150_000);
