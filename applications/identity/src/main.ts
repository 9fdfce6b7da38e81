import { connectInfrastructure, createRuntimeMetrics, main, runUntilSignalled } from '@devpie/client-events';
import { buildIdentityApp } from './app';
import { loadIdentityConfig } from './config';
import { loadSigningKeys } from './keys';
import { listen } from '@devpie/http-kit';

main(async () => {
  const config = loadIdentityConfig();
  const keys = loadSigningKeys(config.JWT_PRIVATE_KEY, config.JWT_PRIVATE_KEY_FILE);
  const infra = await connectInfrastructure('identity-app', config);
  const metrics = createRuntimeMetrics('identity-app');
  const identity = buildIdentityApp({ ...infra, config, keys, metrics: metrics.registry });
  await runUntilSignalled(listen(identity, config.PORT, infra.logger), infra);
});
