import {
  baseConfig,
  buildAggregator,
  connectInfrastructure,
  createRuntimeMetrics,
  main,
  opsPort,
  readConfig,
  runUntilSignalled,
  serveOps,
  together,
} from '@devpie/client-events';
import { estimationProjection } from './projection';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4042) }));
  const infra = await connectInfrastructure('estimation-aggregator', config);
  const metrics = createRuntimeMetrics('estimation-aggregator');
  const aggregator = buildAggregator({
    ...infra,
    projection: estimationProjection,
    hooks: { ...metrics.aggregator('estimation'), onFatal: () => process.kill(process.pid, 'SIGTERM') },
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
});
