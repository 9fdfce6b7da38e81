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
import { projectsProjection } from './projection';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4022) }));
  const infra = await connectInfrastructure('projects-aggregator', config);
  const metrics = createRuntimeMetrics('projects-aggregator');
  const aggregator = buildAggregator({
    ...infra,
    projection: projectsProjection,
    hooks: { ...metrics.aggregator('projects'), onFatal: () => process.kill(process.pid, 'SIGTERM') },
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
