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
import { buildIdentityComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4001) }));
  const infra = await connectInfrastructure('identity-component', config);
  const metrics = createRuntimeMetrics('identity-component');
  const component = buildIdentityComponent({
    messaging: infra.messaging,
    logger: infra.logger,
    hooks: metrics.component('identity-component'),
  });
  const ops = serveOps({
    port: config.OPS_PORT,
    logger: infra.logger,
    readiness: { nats: () => !infra.messaging.nc.isClosed(), consumer: () => component.bound },
    registry: metrics.registry,
  });
  await runUntilSignalled(together(ops, component), infra);
});
