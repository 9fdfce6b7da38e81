import {
  estimateCommands,
  estimateEvents,
  type Decider,
  type EstimateCommand,
  type EstimateEvent,
} from '@devpie/client-events';
import { decide } from './decide';
import { evolve, initialState, type EstimateState } from './estimate';

export const estimateDecider: Decider<EstimateState, EstimateCommand, EstimateEvent> = {
  category: 'estimates',
  commands: estimateCommands,
  events: estimateEvents,
  // 2: tasks in buckets (estimate.ts)
  stateVersion: 2,
  initialState,
  evolve,
  decide,
};
