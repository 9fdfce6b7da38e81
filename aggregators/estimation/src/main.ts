import {
  baseConfig,
  buildAggregator,
  connectInfrastructure,
  main,
  readConfig,
  runUntilSignalled,
} from '@devpie/client-events';
import { estimationProjection } from './projection';

main(async () => {
  const config = readConfig(baseConfig);
  const infra = await connectInfrastructure('estimation-aggregator', config);
  const aggregator = buildAggregator({ ...infra, projection: estimationProjection });
  await runUntilSignalled(aggregator, infra);
});
