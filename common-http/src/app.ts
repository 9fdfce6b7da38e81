import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from '@devpie/client-events';
import { notFoundHandler, problemHandler } from './problem';

export interface AppOptions {
  logger: Logger;
  /** Origins the browser client may call from (CORS allow-list). */
  corsOrigins: string[];
  bodyLimit?: string;
  /** Readiness checks: each resolves true when its dependency is usable. */
  readiness: Record<string, () => Promise<boolean> | boolean>;
  /** Routes under `/api/v1`. */
  api: Router;
  /** Routes outside `/api/v1` (e.g. `/.well-known/jwks.json`). */
  root?: Router;
  /** Prometheus registry: request latency is recorded in it and it is served at `/metrics`. */
  metrics?: Registry;
}

const REQUEST_ID = /^[A-Za-z0-9_\-:.]{1,128}$/;

/** The Express app every service shares: security headers, CORS, body limit, request ids, probes, problems. */
export function createApp(opts: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.use(
    pinoHttp({
      logger: opts.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );
  if (opts.metrics) {
    const registry = opts.metrics;
    const latency = new Histogram({
      name: 'devpie_http_request_seconds',
      help: 'HTTP request latency by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    app.use((req, res, next) => {
      const end = latency.startTimer();
      res.on('finish', () => {
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    });
    app.get('/metrics', async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
  }
  app.use(helmet());
  app.use(
    cors({
      origin: opts.corsOrigins,
      credentials: false,
      exposedHeaders: ['Location', 'X-Request-Id', 'Preference-Applied', 'RateLimit', 'RateLimit-Policy'],
      allowedHeaders: [
        'Authorization',
        'Content-Type',
        'Idempotency-Key',
        'Prefer',
        'X-Request-Id',
        'Last-Event-ID',
      ],
    }),
  );
  app.use(express.json({ limit: opts.bodyLimit ?? '32kb', strict: true }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of Object.entries(opts.readiness)) {
      checks[name] = await Promise.resolve()
        .then(check)
        .catch(() => false);
    }
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  if (opts.root) app.use(opts.root);
  app.use('/api/v1', opts.api);
  app.use(notFoundHandler);
  app.use(problemHandler(opts.logger));
  return app;
}
