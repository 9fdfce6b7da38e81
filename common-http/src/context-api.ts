import { Router } from 'express';
import type { Pool } from 'pg';
import type { Messaging } from '@devpie/client-events';
import { authenticate, principalOf, type TokenVerifier } from './auth';
import { CommandGateway } from './gateway';

/** The gateway of a context's app: it reads `<context>` views and records its commands in `<context>_app`. */
export function contextGateway(messaging: Messaging, pool: Pool, context: string, maxWaitSeconds?: number) {
  return new CommandGateway({
    messaging,
    pool,
    aggregator: context,
    viewSchema: messaging.names.schema(context),
    appSchema: messaging.names.schema(`${context}_app`),
    maxWaitSeconds,
  });
}

/**
 * What every app serves under `/api/v1`: its OpenAPI document and unauthenticated routes, then
 * bearer authentication, `GET /commands/:commandId`, and its own routes.
 */
export function contextApi(opts: {
  openapi: object;
  gateway: CommandGateway;
  verify: TokenVerifier;
  publicRoutes?: Router;
  routes: Router[];
}): Router {
  const api = Router();
  api.get('/openapi.json', (_req, res) => {
    res.json(opts.openapi);
  });
  if (opts.publicRoutes) api.use(opts.publicRoutes);
  api.use(authenticate(opts.verify));
  api.get('/commands/:commandId', async (req, res) => {
    res.json(await opts.gateway.status(String(req.params.commandId), principalOf(res.locals).userId));
  });
  for (const r of opts.routes) api.use(r);
  return api;
}
