import {
  baseConfig,
  connectInfrastructure,
  main,
  readConfig,
  runUntilSignalled,
} from '@devpie/client-events';
import { buildIdentityComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig);
  const infra = await connectInfrastructure('identity-component', config);
  await runUntilSignalled(
    buildIdentityComponent({ messaging: infra.messaging, logger: infra.logger }),
    infra,
  );
});
