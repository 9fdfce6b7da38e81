import { baseConfig, main, opsPort, readConfig, runComponentService } from '@devpie/client-events';
import { buildProjectsComponent } from './component';

main(async () => {
  const config = readConfig(baseConfig.extend({ OPS_PORT: opsPort(4021) }));
  await runComponentService('projects-component', config, buildProjectsComponent);
});
