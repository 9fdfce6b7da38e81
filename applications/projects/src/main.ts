import { connectInfrastructure, createRuntimeMetrics, main, runUntilSignalled } from '@devpie/client-events';
import { listen } from '@devpie/http-kit';
import { buildProjectsApp } from './app';
import { loadProjectsConfig } from './config';

main(async () => {
  const config = loadProjectsConfig();
  const infra = await connectInfrastructure('projects-app', config);
  const metrics = createRuntimeMetrics('projects-app');
  const projects = buildProjectsApp({ ...infra, config, metrics: metrics.registry });
  const server = listen(projects, config.PORT, infra.logger);
  await runUntilSignalled(
    {
      start: () => server.start(),
      async stop() {
        // live streams never go idle: end them first, or closing the server would wait for them
        projects.live.stop();
        await server.stop();
      },
    },
    infra,
  );
});
