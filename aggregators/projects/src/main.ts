import { baseConfig, main, opsPort, readConfig, runAggregatorService } from '@devpie/client-events';
import { projectsProjection } from './projection';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4022) }));
  await runAggregatorService('projects-aggregator', config, projectsProjection);
});
