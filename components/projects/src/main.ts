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
import { buildProjectsComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4021) }));
  const infra = await connectInfrastructure('projects-component', config);
  const metrics = createRuntimeMetrics('projects-component');
  const component = buildProjectsComponent({
    messaging: infra.messaging,
    logger: infra.logger,
    hooks: metrics.component('projects-component'),
  });
  const ops = serveOps({
    port: config.OPS_PORT,
    logger: infra.logger,
    readiness: { nats: () => !infra.messaging.nc.isClosed(), consumer: () => component.bound },
    registry: metrics.registry,
  });
  await runUntilSignalled(together(ops, component), infra);
});
