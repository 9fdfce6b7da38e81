import { baseConfig, main, opsPort, readConfig, runComponentService } from '@devpie/client-events';
import { buildIdentityComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4001) }));
  await runComponentService('identity-component', config, buildIdentityComponent);
});
