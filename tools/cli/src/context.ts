import {
  baseConfig,
  connectMessaging,
  createLogger,
  createPool,
  Names,
  readConfig,
  type Logger,
  type Messaging,
  type Pool,
} from '@devpie/client-events';

/** What every command works with: the namespace's NATS and Postgres, as the services see them. */
export interface CliContext {
  messaging: Messaging;
  pool: Pool;
  names: Names;
  logger: Logger;
  close(): Promise<void>;
}

/** From NATS_URL, DATABASE_URL and NAMESPACE (validated as the services validate them). */
export async function connectCli(env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
  const config = readConfig(baseConfig, { LOG_LEVEL: 'warn', ...env });
  const names = new Names(config.NAMESPACE);
  const messaging = await connectMessaging({
    servers: config.NATS_URL.split(','),
    name: 'devpie-cli',
    names,
  });
  const pool = createPool(config.DATABASE_URL, 4);
  return {
    messaging,
    pool,
    names,
    logger: createLogger('devpie-cli', config.LOG_LEVEL),
    async close() {
      await pool.end().catch(() => undefined);
      await messaging.nc.close().catch(() => undefined);
    },
  };
}
