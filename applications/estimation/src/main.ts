import { connectInfrastructure, createRuntimeMetrics, main, runUntilSignalled } from '@devpie/client-events';
import { listen } from '@devpie/http-kit';
import { buildEstimationApp } from './app';
import { loadEstimationConfig } from './config';

main(async () => {
  const config = loadEstimationConfig();
  const infra = await connectInfrastructure('estimation-app', config);
  const metrics = createRuntimeMetrics('estimation-app');
  const estimation = buildEstimationApp({ ...infra, config, metrics: metrics.registry });
  await runUntilSignalled(listen(estimation, config.PORT, infra.logger), infra);
});
