import { rate, type Ceilings } from './ceilings';
import type { PipelineResult } from './pipeline';
import { acknowledgedPublishesPerCommand, pipelineRows } from './report';

const noLatency = { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };

/** A pipeline run of the bench's size: 60,000 commands, the reactor's 24,801, 87,199 events. */
function pipelineRun(): PipelineResult {
  return {
    commands: 60_000,
    layout: 'in-process',
    decided: 84_801,
    byType: {},
    publish: rate(60_000, 3),
    run: rate(60_000, 20),
    outcomes: { accepted: 75_092, rejected: 9_709, duplicate: 0 },
    reactorCommands: 24_801,
    parked: 0,
    conflicts: 0,
    events: 87_199,
    viewOutcomes: {},
    handleMs: { p50: 1, p99: 2, exact: true },
    batches: {},
    cpu: '',
    oneBoard: { commands: 10, window: 1, seen: 10, failed: 0, run: rate(10, 1), ms: noLatency, cpu: '' },
    servicesCpu: {},
  };
}

const ceilings = { publishWindowed: rate(45_000, 1) } as Pick<Ceilings, 'publishWindowed'> as Ceilings;

test('each command decided and each event appended counts as one acked publish per command of the mix', () => {
  expect(acknowledgedPublishesPerCommand(pipelineRun())).toBeCloseTo(172_000 / 60_000, 10);
});

test("the pipeline's share of the windowed ceiling is printed beside its bound", () => {
  const { rows, problems } = pipelineRows(pipelineRun(), ceilings);
  const value = (prefix: string) => rows.find((r) => r.figure.startsWith(prefix))?.value;
  expect(value('  ÷ windowed publish ceiling')).toBeCloseTo((100 * 3_000) / 45_000, 10);
  expect(value('  acked publishes per command')).toBeCloseTo(2.8667, 4);
  // at the ceiling's rate, 2.87 publishes a command leave at most 34.9 % of it: 40 % is out of reach
  expect(value('  ÷ windowed ceiling, were those publishes all the work')).toBeCloseTo(34.884, 3);
  expect(problems).toEqual([]);
});

test('without the ceilings (--only pipeline) neither the ratio nor its bound is printed', () => {
  const { rows } = pipelineRows(pipelineRun(), undefined);
  expect(rows.some((r) => r.figure.includes('ceiling'))).toBe(false);
  expect(rows.some((r) => r.figure.includes('publishes per command'))).toBe(false);
});
