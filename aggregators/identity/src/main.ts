import {
  baseConfig,
  buildAggregator,
  connectInfrastructure,
  main,
  readConfig,
  runUntilSignalled,
} from '@devpie/client-events';
import { identityProjection } from './projection';

main(async () => {
  const config = readConfig(baseConfig);
  const infra = await connectInfrastructure('identity-aggregator', config);
  const aggregator = buildAggregator({ ...infra, projection: identityProjection });
  await runUntilSignalled(aggregator, infra);
});
