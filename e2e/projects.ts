import type { Express } from 'express';
import { buildAggregator, createLogger, createPool, type Aggregator } from '@devpie/client-events';
import { TEST_DATABASE_URL } from '@devpie/client-events/testing';
import { projectsProjection } from '@devpie/projects-aggregator';
import { buildProjectsApp } from '@devpie/projects-app/src/app';
import { projectsConfigSchema, type ProjectsConfig } from '@devpie/projects-app/src/config';
import { buildProjectsComponent } from '@devpie/projects-component';
import { attachToSystem, type RunningSystem } from './system';

export interface RunningProjects {
  /** The Projects HTTP app (supertest it, or `listen(0)` for SSE). */
  app: Express;
  config: ProjectsConfig;
  service: ReturnType<typeof buildProjectsApp>;
  component: ReturnType<typeof buildProjectsComponent>;
  aggregator: Aggregator;
  /** Its own Postgres pool, as a separate process would have. */
  pool: ReturnType<typeof createPool>;
  /** Another Projects app replica on the same namespace (different settings); stopped with the rest. */
  replica(env?: Record<string, string>): Promise<ReturnType<typeof buildProjectsApp>>;
  stop(): Promise<void>;
}

/**
 * Adds the Projects services (component, aggregator, app) to a system started by `startSystem()`,
 * in its namespace. Tokens are Identity's (same keys, issuer and audience). `sys.stop()` then stops
 * them before the rest; the projects aggregator is also listed in `sys.aggregators`.
 */
export async function addProjects(
  sys: RunningSystem,
  env: Record<string, string> = {},
): Promise<RunningProjects> {
  const logger = createLogger('e2e-projects', process.env.TEST_LOG ?? 'silent');
  const settings = (extra: Record<string, string>) =>
    projectsConfigSchema.parse({
      NAMESPACE: sys.env.names.namespace,
      JWT_ISSUER: sys.identityConfig.JWT_ISSUER,
      JWT_AUDIENCE: sys.identityConfig.JWT_AUDIENCE,
      ...env,
      ...extra,
    });
  const config = settings({});
  const pool = createPool(TEST_DATABASE_URL, 10);
  const deps = { messaging: sys.env.messaging, pool, logger };
  const keySource = { keys: [sys.keys.publicKey] };
  const component = buildProjectsComponent(deps);
  const aggregator = buildAggregator({ ...deps, projection: projectsProjection });
  const service = buildProjectsApp({ ...deps, config, keySource });
  const parts: { start(): Promise<void>; stop(): Promise<void> }[] = [component, aggregator, service];
  const stop = await attachToSystem(sys, parts, pool);
  sys.aggregators.push(aggregator);

  return {
    app: service.app,
    config,
    service,
    component,
    aggregator,
    pool,
    async replica(extra = {}) {
      const other = buildProjectsApp({ ...deps, config: settings(extra), keySource });
      await other.start();
      parts.push(other);
      return other;
    },
    stop,
  };
}
