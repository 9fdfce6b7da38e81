import { baseConfig, main, opsPort, readConfig, runComponentService } from '@devpie/client-events';
import { buildEstimationComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4041) }));
  await runComponentService('estimation-component', config, buildEstimationComponent);
});
