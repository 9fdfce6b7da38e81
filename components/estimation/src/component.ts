import {
  buildComponent,
  buildReactor,
  projectEvents,
  type ComponentHooks,
  type Logger,
  type Messaging,
  type ProjectEvent,
} from '@devpie/client-events';
import { estimateDecider } from './decider';
import { reactToProjects } from './reactions';

export interface EstimationComponentDeps {
  messaging: Messaging;
  logger: Logger;
  hooks?: ComponentHooks;
}

/**
 * The estimation command processor (durable `estimates-component` on `estimates.command.*`) and
 * its reactor on Projects' events (durable `estimation-reactor-projects` on `projects.*`), which
 * turns ProjectAdded, TaskAdded, TaskDestroyed and ProjectDestroyed into estimate commands. The
 * reactor derives each command id from the event id, so an event read twice issues one command.
 */
export function buildEstimationComponent({ messaging, logger, hooks }: EstimationComponentDeps) {
  const estimates = buildComponent({
    messaging,
    decider: estimateDecider,
    name: 'estimates-component',
    logger: logger.child({ component: 'estimates' }),
    hooks,
  });
  const reactor = buildReactor({
    messaging,
    name: 'estimation-reactor-projects',
    source: projectEvents,
    logger: logger.child({ component: 'estimation-reactor-projects' }),
    // the reactor parses with `projectEvents`, so the envelope is one of its events
    react: (event) => reactToProjects(event as ProjectEvent),
  });

  return {
    handlers: { estimates: estimates.handle },
    store: estimates.store,
    reactor,
    get bound() {
      return estimates.bound && reactor.bound;
    },
    async start() {
      // commands first: the reactor's commands then find their processor listening
      await estimates.start();
      await reactor.start();
    },
    async stop() {
      await reactor.stop();
      await estimates.stop();
    },
  };
}

export type EstimationComponent = ReturnType<typeof buildEstimationComponent>;
