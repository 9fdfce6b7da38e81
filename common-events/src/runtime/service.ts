import type { Pool } from 'pg';
import { Names } from '../names';
import { buildAggregator } from './aggregator';
import type { ComponentHooks } from './component';
import type { BaseConfig } from './config';
import { createRuntimeMetrics } from './metrics';
import { serveOps } from './ops-server';
import type { Projection } from './projection';
import { createLogger, type Logger } from './logger';
import { connectMessaging, ensureStreams, type Messaging } from './messaging';
import { createPool } from './postgres';

export interface Infrastructure {
  messaging: Messaging;
  pool: Pool;
  logger: Logger;
  close(): Promise<void>;
}

/** Real clients from validated configuration: what each composition root (main.ts) starts from. */
export async function connectInfrastructure(service: string, config: BaseConfig): Promise<Infrastructure> {
  const logger = createLogger(service, config.LOG_LEVEL);
  const names = new Names(config.NAMESPACE);
  const messaging = await connectMessaging({ servers: config.NATS_URL.split(','), name: service, names });
  await ensureStreams(messaging, { replicas: config.STREAM_REPLICAS });
  const pool = createPool(config.DATABASE_URL, 10, (err) =>
    logger.warn({ err }, 'idle Postgres connection lost; the pool opens a new one'),
  );
  return {
    messaging,
    pool,
    logger,
    async close() {
      await messaging.nc.drain().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a service and stops it once on SIGTERM/SIGINT: drain consumers and finish the batch in
 * flight (`stop`), then close connections; exits non-zero if that takes longer than `graceMs`.
 */
export async function runUntilSignalled(
  service: Runnable,
  infra: Pick<Infrastructure, 'logger' | 'close'>,
  graceMs = Number(process.env.SHUTDOWN_GRACE_MS ?? 25_000),
): Promise<void> {
  await service.start();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    infra.logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      infra.logger.error({ graceMs }, 'did not stop within the grace period');
      process.exit(1);
    }, graceMs);
    timer.unref();
    try {
      await service.stop();
      await infra.close();
      infra.logger.info('stopped');
      process.exit(0);
    } catch (err) {
      infra.logger.error({ err }, 'stop failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** For `main.ts`: a failure to start (a bad variable, a server not there) is printed and exits 1. */
export function main(run: () => Promise<void>): void {
  run().catch((err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exit(1);
  });
}

/** Several runnables as one: started in order, stopped in reverse. */
export function together(...parts: Runnable[]): Runnable {
  return {
    async start() {
      for (const p of parts) await p.start();
    },
    async stop() {
      for (const p of [...parts].reverse()) await p.stop();
    },
  };
}

/** A component's process: its consumers plus the probe/metrics endpoints on `OPS_PORT`. */
export async function runComponentService(
  service: string,
  config: BaseConfig & { OPS_PORT: number },
  build: (deps: {
    messaging: Messaging;
    logger: Logger;
    hooks: ComponentHooks;
  }) => Runnable & { bound: boolean },
): Promise<void> {
  const infra = await connectInfrastructure(service, config);
  const metrics = createRuntimeMetrics(service);
  const component = build({
    messaging: infra.messaging,
    logger: infra.logger,
    hooks: metrics.component(service),
  });
  const ops = serveOps({
    port: config.OPS_PORT,
    logger: infra.logger,
    readiness: { nats: () => !infra.messaging.nc.isClosed(), consumer: () => component.bound },
    registry: metrics.registry,
  });
  await runUntilSignalled(together(ops, component), infra);
}

/** An aggregator's process: one projection folded into its views, probes and metrics on `OPS_PORT`. */
export async function runAggregatorService(
  service: string,
  config: BaseConfig & { OPS_PORT: number },
  projection: Projection,
): Promise<void> {
  const infra = await connectInfrastructure(service, config);
  const metrics = createRuntimeMetrics(service);
  const aggregator = buildAggregator({
    ...infra,
    projection,
    hooks: { ...metrics.aggregator(projection.name), onFatal: () => process.kill(process.pid, 'SIGTERM') },
  });
  const ops = serveOps({
    port: config.OPS_PORT,
    logger: infra.logger,
    readiness: {
      nats: () => !infra.messaging.nc.isClosed(),
      postgres: async () => (await infra.pool.query('SELECT 1')).rowCount === 1,
      consumer: () => aggregator.bound,
    },
    registry: metrics.registry,
  });
  // probes answer while a standby waits for the leadership lock (not ready until it folds)
  await runUntilSignalled(together(ops, aggregator), infra);
}
