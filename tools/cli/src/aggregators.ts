import type { Projection } from '@devpie/client-events';
import { estimationProjection } from '@devpie/estimation-aggregator';
import { identityProjection } from '@devpie/identity-aggregator';
import { projectsProjection } from '@devpie/projects-aggregator';

/** The aggregators `devpie replay` knows, by the name the command takes. */
export const AGGREGATORS: Record<string, Projection> = {
  identity: identityProjection,
  projects: projectsProjection,
  estimation: estimationProjection,
};
