import pino from 'pino';
import {
  buildAggregator,
  buildComponent,
  createLogger,
  createRuntimeMetrics,
  envelope,
  newId,
  serveOps,
} from '../src';
import { eventually, openTestEnv, type TestEnv } from '../src/testing';
import { counterDecider, counterProjection } from './fixtures/counter';

const logger = createLogger('test', 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

test('metrics count commands, retries, folded events and command-to-view latency; probes answer', async () => {
  const metrics = createRuntimeMetrics('test-service');
  const component = buildComponent({
    messaging: env.messaging,
    decider: counterDecider,
    name: 'metrics-c',
    logger,
    hooks: metrics.component('metrics-c'),
  });
  const aggregator = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger,
    hooks: metrics.aggregator('counters'),
  });
  await aggregator.start();
  const projectId = newId();
  await component.handle(envelope('Increment', { projectId, by: 1 }, { userId: null }));
  await component.handle(envelope('Close', { projectId }, { userId: null }));
  await component.handle(envelope('Increment', { projectId, by: 1 }, { userId: null }));
  await eventually(() => (aggregator.position >= 3 ? true : undefined));
  const text = await metrics.registry.metrics();
  expect(text).toContain(
    'devpie_commands_total{type="Increment",outcome="accepted",service="test-service"} 1',
  );
  expect(text).toContain(
    'devpie_commands_total{type="Increment",outcome="rejected",service="test-service"} 1',
  );
  expect(text).toMatch(/devpie_events_folded_total\{aggregator="counters",service="test-service"\} 3/);
  expect(text).toMatch(
    /devpie_command_to_view_seconds_count\{service="test-service",aggregator="counters"\} 3/,
  );
  await aggregator.stop();

  const server = serveOps({
    port: 47_391,
    logger,
    readiness: { bound: () => true, nats: () => false },
    registry: metrics.registry,
  });
  await server.start();
  const base = 'http://127.0.0.1:47391';
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'not ready', checks: { bound: true, nats: false } });
  expect(await (await fetch(`${base}/metrics`)).text()).toContain('devpie_commands_total');
  await server.stop();
});

test('one trace id follows a command through the component log and the aggregator log', async () => {
  const lines: { traceId?: string; traceIds?: string[]; msg: string }[] = [];
  const sink = { write: (line: string) => void lines.push(JSON.parse(line)) };
  const traced = pino({ level: 'debug' }, sink);
  const component = buildComponent({
    messaging: env.messaging,
    decider: counterDecider,
    name: 'traced-c',
    logger: traced,
  });
  const aggregator = buildAggregator({
    messaging: env.messaging,
    pool: env.pool,
    projection: counterProjection,
    logger: traced,
    durable: 'traced',
    schema: env.names.schema('traced'),
  });
  await aggregator.start();
  const traceId = `req-${newId()}`;
  await component.handle(envelope('Increment', { projectId: newId(), by: 1 }, { userId: null, traceId }));
  await eventually(() => (lines.some((l) => l.traceIds?.includes(traceId)) ? true : undefined));
  await aggregator.stop();
  expect(lines.find((l) => l.traceId === traceId)).toMatchObject({ msg: 'Increment accepted' });
  expect(lines.find((l) => l.traceIds?.includes(traceId))).toMatchObject({ msg: 'views committed' });
});
