import { Router } from 'express';
import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import type { Logger, Messaging } from '@devpie/client-events';
import {
  contextApi,
  contextGateway,
  createApp,
  createTokenVerifier,
  jwksDocument,
  type KeySource,
} from '@devpie/http-kit';
import type { IdentityConfig } from './config';
import type { SigningKeys } from './keys';
import { authRoutes } from './routes/auth';
import { teamRoutes } from './routes/teams';
import { userRoutes } from './routes/users';
import { identityOpenApi } from './openapi';
import { IdentityViews } from './views';

export interface IdentityAppDeps {
  config: IdentityConfig;
  messaging: Messaging;
  pool: Pool;
  logger: Logger;
  keys: SigningKeys;
  /** Prometheus registry for HTTP latency and /metrics. */
  metrics?: Registry;
  /** Where tokens are verified from; defaults to this app's own key (no HTTP to itself). */
  keySource?: KeySource;
}

/** The Identity application: sign-up/in, JWKS, profile, teams and memberships. */
export function buildIdentityApp(deps: IdentityAppDeps) {
  const { config, messaging, pool, logger, keys } = deps;
  const names = messaging.names;
  const views = new IdentityViews(pool, names.schema('identity'));
  const gateway = contextGateway(messaging, pool, 'identity');
  const verify = createTokenVerifier(
    { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
    deps.keySource ?? { keys: [keys.publicKey] },
  );

  const root = Router();
  root.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(jwksDocument([keys.publicKey]));
  });

  const api = contextApi({
    openapi: identityOpenApi,
    gateway,
    verify,
    publicRoutes: authRoutes({ config, keys, views, gateway }),
    routes: [userRoutes({ views, gateway }), teamRoutes({ views, gateway })],
  });

  const app = createApp({
    logger,
    corsOrigins: config.CORS_ORIGINS,
    readiness: { nats: () => !messaging.nc.isClosed(), postgres: () => views.ping() },
    api,
    root,
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
