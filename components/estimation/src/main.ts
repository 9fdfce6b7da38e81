import {
  baseConfig,
  connectInfrastructure,
  createRuntimeMetrics,
  main,
  opsPort,
  readConfig,
  runUntilSignalled,
  serveOps,
  together,
} from '@devpie/client-events';
import { buildEstimationComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4041) }));
  const infra = await connectInfrastructure('estimation-component', config);
  const metrics = createRuntimeMetrics('estimation-component');
  const component = buildEstimationComponent({
    messaging: infra.messaging,
    logger: infra.logger,
    hooks: metrics.component('estimation-component'),
  });
  const ops = serveOps({
    port: config.OPS_PORT,
    logger: infra.logger,
    // bound: both the command consumer and the reactor's consumer on Projects' events
    readiness: { nats: () => !infra.messaging.nc.isClosed(), consumer: () => component.bound },
    registry: metrics.registry,
  });
  await runUntilSignalled(together(ops, component), infra);
});
