import type { Express } from 'express';
import { buildAggregator, createLogger, createPool, type Aggregator } from '@devpie/client-events';
import { TEST_DATABASE_URL } from '@devpie/client-events/testing';
import { estimationProjection } from '@devpie/estimation-aggregator';
import { buildEstimationApp } from '@devpie/estimation-app/src/app';
import { estimationConfigSchema, type EstimationConfig } from '@devpie/estimation-app/src/config';
import { buildEstimationComponent } from '@devpie/estimation-component';
import { attachToSystem, type RunningSystem } from './system';

export interface RunningEstimation {
  /** The Estimation HTTP app (supertest it). */
  app: Express;
  config: EstimationConfig;
  service: ReturnType<typeof buildEstimationApp>;
  /** The command processor and its reactor to Projects' events. */
  component: ReturnType<typeof buildEstimationComponent>;
  aggregator: Aggregator;
  /** Its own Postgres pool, as a separate process would have. */
  pool: ReturnType<typeof createPool>;
  stop(): Promise<void>;
}

/**
 * Adds the Estimation services (component with its Projects reactor, aggregator, app) to a system
 * started by `startSystem()`, in its namespace. Tokens are Identity's (same keys, issuer and
 * audience). `sys.stop()` then stops them before the rest; the estimation aggregator is also
 * listed in `sys.aggregators`. Estimation follows Projects' events, so tests add Projects too.
 */
export async function addEstimation(
  sys: RunningSystem,
  env: Record<string, string> = {},
): Promise<RunningEstimation> {
  const logger = createLogger('e2e-estimation', process.env.TEST_LOG ?? 'silent');
  const config = estimationConfigSchema.parse({
    NAMESPACE: sys.env.names.namespace,
    JWT_ISSUER: sys.identityConfig.JWT_ISSUER,
    JWT_AUDIENCE: sys.identityConfig.JWT_AUDIENCE,
    ...env,
  });
  const pool = createPool(TEST_DATABASE_URL, 10);
  const deps = { messaging: sys.env.messaging, pool, logger };
  const component = buildEstimationComponent(deps);
  const aggregator = buildAggregator({ ...deps, projection: estimationProjection });
  const service = buildEstimationApp({ ...deps, config, keySource: { keys: [sys.keys.publicKey] } });
  const parts: { start(): Promise<void>; stop(): Promise<void> }[] = [component, aggregator, service];
  const stop = await attachToSystem(sys, parts, pool);
  sys.aggregators.push(aggregator);

  return { app: service.app, config, service, component, aggregator, pool, stop };
}
