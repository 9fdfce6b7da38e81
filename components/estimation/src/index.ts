export * from './pert';
export { initialState, evolve, liveTask, type EstimateState, type TaskState, type Tasks } from './estimate';
export { decide } from './decide';
export { estimateDecider } from './decider';
export { reactToProjects } from './reactions';
export {
  buildEstimationComponent,
  type EstimationComponent,
  type EstimationComponentDeps,
} from './component';
