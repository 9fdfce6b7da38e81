import {
  projectCommands,
  projectEvents,
  type Decider,
  type ProjectCommand,
  type ProjectEvent,
} from '@devpie/client-events';
import { decide } from './decide';
import { evolve, initialState, type ProjectState } from './project';

export const projectDecider: Decider<ProjectState, ProjectCommand, ProjectEvent> = {
  category: 'projects',
  commands: projectCommands,
  events: projectEvents,
  stateVersion: 2,
  initialState,
  evolve,
  decide,
};
