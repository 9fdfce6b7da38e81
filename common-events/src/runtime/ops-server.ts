import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';

export interface OpsOptions {
  port: number;
  logger: Logger;
  /** Each resolves true when its dependency is usable (NATS connected, Postgres reachable, consumer bound). */
  readiness: Record<string, () => Promise<boolean> | boolean>;
  registry?: Registry;
}

/**
 * The probe and metrics endpoints of a service that has no HTTP API of its own (components,
 * aggregators): `/healthz` (alive), `/readyz` (dependencies usable) and `/metrics` (Prometheus).
 */
export function serveOps(opts: OpsOptions) {
  let server: Server | undefined;
  const handler = async (url: string): Promise<[number, string, string]> => {
    if (url === '/healthz') return [200, 'application/json', JSON.stringify({ status: 'ok' })];
    if (url === '/readyz') {
      const checks: Record<string, boolean> = {};
      for (const [name, check] of Object.entries(opts.readiness)) {
        checks[name] = await Promise.resolve()
          .then(check)
          .catch(() => false);
      }
      const ready = Object.values(checks).every(Boolean);
      return [
        ready ? 200 : 503,
        'application/json',
        JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }),
      ];
    }
    if (url === '/metrics' && opts.registry)
      return [200, opts.registry.contentType, await opts.registry.metrics()];
    return [404, 'application/json', JSON.stringify({ status: 404, title: 'Not Found' })];
  };
  return {
    async start() {
      server = createServer((req, res) => {
        handler((req.url ?? '/').split('?')[0]!)
          .then(([status, type, body]) => res.writeHead(status, { 'content-type': type }).end(body))
          .catch((err: unknown) => {
            opts.logger.error({ err }, 'ops endpoint failed');
            res.writeHead(500).end();
          });
      });
      await new Promise<void>((resolve) => server!.listen(opts.port, resolve));
    },
    async stop() {
      if (!server) return;
      const closed = new Promise((r) => server!.close(r));
      server.closeAllConnections();
      await closed;
    },
  };
}
