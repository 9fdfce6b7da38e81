export { projectDecider } from './decider';
export { decide } from './decide';
export {
  evolve,
  initialState,
  findColumn,
  findTask,
  taskCount,
  type ActiveProject,
  type Column,
  type DestroyedProject,
  type InitialProject,
  type ProjectState,
  type TaskLocation,
} from './project';
export { buildProjectsComponent, type ProjectsComponentDeps } from './component';
