/**
 * The setup job: creates the JetStream streams with STREAM_REPLICAS and every aggregator's view
 * schema, retrying while NATS and Postgres come up (a fresh cluster elects its JetStream leader
 * after the pods start). With `--wait` it creates nothing and returns once setup has run: the
 * services' init container, so that no service starts before the streams and schemas exist.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  connectMessaging,
  createLogger,
  createPool,
  main,
  Names,
  type Messaging,
} from '@devpie/client-events';
import { loadSetupConfig } from './config';
import { missing, setUp } from './setup';

main(async () => {
  const config = loadSetupConfig();
  const wait = process.argv.includes('--wait');
  const logger = createLogger(wait ? 'setup-wait' : 'setup', config.LOG_LEVEL);
  const deadline = Date.now() + config.SETUP_TIMEOUT_SECONDS * 1000;
  const names = new Names(config.NAMESPACE);
  let lastReport = 0;

  /** Runs `step` until it resolves true; gives up (exit 1) at the deadline. */
  async function until(what: string, step: () => Promise<boolean>): Promise<void> {
    for (;;) {
      let reason = '';
      try {
        if (await step()) return;
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline)
        throw new Error(`${what}: not done within ${config.SETUP_TIMEOUT_SECONDS} s ${reason}`);
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        logger.info({ reason }, `waiting: ${what}`);
      }
      await sleep(1000);
    }
  }

  let messaging: Messaging | undefined;
  await until('connect to NATS', async () => {
    messaging = await connectMessaging({ servers: config.NATS_URL.split(','), name: 'setup', names });
    return true;
  });
  const pool = createPool(config.DATABASE_URL, 2);
  pool.on('error', (err) => logger.warn({ err }, 'idle Postgres connection failed'));
  try {
    if (wait) {
      await until('streams and view schemas to exist (the setup job)', async () => {
        const absent = await missing(messaging!, pool);
        if (absent.length > 0) throw new Error(`missing ${absent.join(', ')}`);
        return true;
      });
      logger.info('setup has run');
    } else {
      await until('create streams and view schemas', async () => {
        await setUp(messaging!, pool, config.STREAM_REPLICAS);
        return true;
      });
      logger.info(
        { replicas: config.STREAM_REPLICAS, namespace: config.NAMESPACE },
        'streams and views ready',
      );
    }
  } finally {
    await messaging!.nc.drain().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
});
