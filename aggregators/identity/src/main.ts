import { baseConfig, main, opsPort, readConfig, runAggregatorService } from '@devpie/client-events';
import { identityProjection } from './projection';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4002) }));
  await runAggregatorService('identity-aggregator', config, identityProjection);
});
