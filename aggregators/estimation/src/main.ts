import { baseConfig, main, opsPort, readConfig, runAggregatorService } from '@devpie/client-events';
import { estimationProjection } from './projection';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4042) }));
  await runAggregatorService('estimation-aggregator', config, estimationProjection);
});
