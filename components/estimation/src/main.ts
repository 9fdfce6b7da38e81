import {
  baseConfig,
  connectInfrastructure,
  main,
  readConfig,
  runUntilSignalled,
} from '@devpie/client-events';
import { buildEstimationComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig);
  const infra = await connectInfrastructure('estimation-component', config);
  await runUntilSignalled(
    buildEstimationComponent({ messaging: infra.messaging, logger: infra.logger }),
    infra,
  );
});
