import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import type { Logger, Messaging } from '@devpie/client-events';
import { contextApi, contextGateway, createApp, createTokenVerifier, type KeySource } from '@devpie/http-kit';
import type { EstimationConfig } from './config';
import { estimationOpenApi } from './openapi';
import { estimateRoutes } from './routes/estimates';
import { EstimationViews } from './views';

export interface EstimationAppDeps {
  config: EstimationConfig;
  messaging: Messaging;
  pool: Pool;
  logger: Logger;
  /** Prometheus registry for HTTP latency and /metrics. */
  metrics?: Registry;
  /** Where tokens are verified from; defaults to Identity's JWKS (`JWKS_URL`). */
  keySource?: KeySource;
}

/** The Estimation application: three-point task estimates, the hourly rate and the project's quote. */
export function buildEstimationApp(deps: EstimationAppDeps) {
  const { config, messaging, pool, logger } = deps;
  const names = messaging.names;
  const schema = names.schema('estimation');
  const views = new EstimationViews(pool, schema);
  const gateway = contextGateway(messaging, pool, 'estimation', config.MAX_WAIT_SECONDS);
  const verify = createTokenVerifier(
    { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
    deps.keySource ?? { jwksUri: config.JWKS_URL },
  );

  const api = contextApi({
    openapi: estimationOpenApi,
    gateway,
    verify,
    routes: [estimateRoutes({ views, gateway })],
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
    async start() {
      await gateway.start();
    },
    async stop() {
      gateway.stop();
    },
  };
}
