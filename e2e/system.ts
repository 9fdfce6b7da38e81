import { generateKeyPairSync } from 'node:crypto';
import type { Express } from 'express';
import { buildAggregator, createLogger, type Aggregator } from '@devpie/client-events';
import { openTestEnv, type TestEnv } from '@devpie/client-events/testing';
import { identityProjection } from '@devpie/identity-aggregator';
import { buildIdentityApp } from '@devpie/identity-app/src/app';
import { identityConfigSchema } from '@devpie/identity-app/src/config';
import { buildIdentityComponent } from '@devpie/identity-component';

export interface RunningSystem {
  env: TestEnv;
  identity: Express;
  identityConfig: ReturnType<typeof identityConfigSchema.parse>;
  keys: { privateKey: import('node:crypto').KeyObject; publicKey: import('node:crypto').KeyObject };
  aggregators: Aggregator[];
  stop(): Promise<void>;
}

/**
 * The services of the system in this process, in a private namespace on the machine's real NATS
 * and Postgres: each e2e test file starts its own and stops it.
 */
export async function startSystem(): Promise<RunningSystem> {
  const env = await openTestEnv();
  const logger = createLogger('e2e', process.env.TEST_LOG ?? 'silent');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const identityConfig = identityConfigSchema.parse({
    NAMESPACE: env.names.namespace,
    SCRYPT_N: '1024',
    SIGNIN_LIMIT_PER_CLIENT: '20',
    SIGNIN_LIMIT_PER_ADDRESS: '5',
  });
  const deps = { messaging: env.messaging, pool: env.pool, logger };
  const identityComponent = buildIdentityComponent(deps);
  const identityAggregator = buildAggregator({ ...deps, projection: identityProjection });
  const identityApp = buildIdentityApp({ ...deps, config: identityConfig, keys: { privateKey, publicKey } });
  const parts = [identityComponent, identityAggregator, identityApp];
  for (const p of parts) await p.start();
  return {
    env,
    identity: identityApp.app,
    identityConfig,
    keys: { privateKey, publicKey },
    aggregators: [identityAggregator],
    async stop() {
      for (const p of parts.reverse()) await p.stop();
      await env.close();
    },
  };
}

/**
 * Starts a context's services on a running system and chains their stop (in reverse, then their
 * pool) in front of the system's own. `parts` may grow later (another replica); all are stopped.
 */
export async function attachToSystem(
  sys: RunningSystem,
  parts: { start(): Promise<void>; stop(): Promise<void> }[],
  pool: { end(): Promise<void> },
) {
  for (const p of parts) await p.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const p of [...parts].reverse()) await p.stop();
    await pool.end();
  };
  const stopSystem = sys.stop;
  sys.stop = async () => {
    await stop();
    await stopSystem.call(sys);
  };
  return stop;
}
