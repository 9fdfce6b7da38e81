import { buildComponent, type ComponentHooks, type Logger, type Messaging } from '@devpie/client-events';
import { projectDecider } from './decider';

export interface ProjectsComponentDeps {
  messaging: Messaging;
  logger: Logger;
  hooks?: ComponentHooks;
}

/**
 * The projects command processor: one durable consumer on `projects.command.*`. A project is the
 * root of its columns and tasks, so every board change is decided on one entity stream, in order,
 * with an optimistic-concurrency expectation.
 */
export function buildProjectsComponent({ messaging, logger, hooks }: ProjectsComponentDeps) {
  const projects = buildComponent({
    messaging,
    decider: projectDecider,
    name: 'projects-component',
    logger: logger.child({ component: 'projects' }),
    hooks,
  });
  return {
    handlers: { projects: projects.handle },
    store: projects.store,
    get bound() {
      return projects.bound;
    },
    start: () => projects.start(),
    stop: () => projects.stop(),
  };
}
