import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import type { Logger, Messaging } from '@devpie/client-events';
import { contextApi, contextGateway, createApp, createTokenVerifier, type KeySource } from '@devpie/http-kit';
import type { ProjectsConfig } from './config';
import { LiveBoards } from './live';
import { boardRoutes } from './routes/board';
import { liveRoutes } from './routes/live';
import { projectRoutes } from './routes/projects';
import { ProjectsViews } from './views';
import { projectsOpenApi } from './openapi';

export interface ProjectsAppDeps {
  config: ProjectsConfig;
  messaging: Messaging;
  pool: Pool;
  logger: Logger;
  /** Prometheus registry for HTTP latency and /metrics. */
  metrics?: Registry;
  /** Where tokens are verified from; defaults to Identity's JWKS (`JWKS_URL`). */
  keySource?: KeySource;
}

/** The Projects application: kanban projects, their columns and tasks, and live boards. */
export function buildProjectsApp(deps: ProjectsAppDeps) {
  const { config, messaging, pool, logger } = deps;
  const names = messaging.names;
  const schema = names.schema('projects');
  const views = new ProjectsViews(pool, schema);
  const gateway = contextGateway(messaging, pool, 'projects', config.MAX_WAIT_SECONDS);
  const live = new LiveBoards(messaging, schema);
  const verify = createTokenVerifier(
    { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
    deps.keySource ?? { jwksUri: config.JWKS_URL },
  );

  const api = contextApi({
    openapi: projectsOpenApi,
    gateway,
    verify,
    routes: [
      projectRoutes({ views, gateway }),
      boardRoutes({ views, gateway }),
      liveRoutes({ views, live, heartbeatMs: config.SSE_HEARTBEAT_SECONDS * 1000, logger }),
    ],
  });

  const app = createApp({
    logger,
    corsOrigins: config.CORS_ORIGINS,
    readiness: { nats: () => !messaging.nc.isClosed(), postgres: () => views.ping() },
    api,
    metrics: deps.metrics,
  });
  return {
    app,
    gateway,
    views,
    live,
    async start() {
      await gateway.start();
      live.start();
    },
    async stop() {
      live.stop();
      gateway.stop();
    },
  };
}
