import type { EstimateEvent } from '@devpie/client-events';
import type { Rate, ThreePoint } from './pert';

/** A task the estimate knows of; `revision` 0 means registered but never estimated. */
export interface TaskState {
  readonly removed: boolean;
  readonly revision: number;
  readonly estimate: ThreePoint | null;
}

/**
 * The tasks, in 16 buckets by the last character of their id. An event copies the bucket it
 * changes and the 16 references, not every task: spreading one object of all the tasks cost each
 * event O(tasks) (and a dictionary grown key by key), ~2 MB allocated per event on a board of a
 * thousand tasks. The state stays plain JSON for snapshots.
 */
export type Tasks = Readonly<Record<string, Readonly<Record<string, TaskState>>>>;

const bucketOf = (taskId: string) => taskId.slice(-1);

/** The task if it is registered (removed or not). */
export function taskOf(state: EstimateState, taskId: string): TaskState | undefined {
  const bucket = state.tasks[bucketOf(taskId)];
  return bucket && Object.hasOwn(bucket, taskId) ? bucket[taskId] : undefined;
}

/** Every registered task by id (removed ones too). */
export function allTasks(state: EstimateState): Record<string, TaskState> {
  return Object.assign({}, ...Object.values(state.tasks)) as Record<string, TaskState>;
}

/**
 * The estimate of one project (entity id = projectId). Tasks may be registered before the
 * estimate is opened (both commands come from a reactor), so `initial` already holds tasks.
 */
export type EstimateState =
  | { readonly status: 'initial'; readonly tasks: Tasks }
  | {
      readonly status: 'open';
      readonly ownerId: string;
      readonly teamId: string | null;
      readonly rate: Rate | null;
      readonly tasks: Tasks;
    }
  | {
      readonly status: 'archived';
      /** Null when the project was destroyed before its estimate was opened. */
      readonly ownerId: string | null;
      readonly teamId: string | null;
      readonly rate: Rate | null;
      readonly tasks: Tasks;
    };

export const initialState = (): EstimateState => ({ status: 'initial', tasks: {} });

/** The task if it is registered and not removed. */
export function liveTask(state: EstimateState, taskId: string): TaskState | undefined {
  const task = taskOf(state, taskId);
  return task && !task.removed ? task : undefined;
}

export function evolve(state: EstimateState, event: EstimateEvent): EstimateState {
  switch (event.type) {
    case 'EstimateOpened': {
      const { ownerId, teamId } = event.data;
      return { status: 'open', ownerId, teamId, rate: null, tasks: state.tasks };
    }
    case 'TaskRegistered':
      return withTask(state, event.data.taskId, { removed: false, revision: 0, estimate: null });
    case 'RateSet': {
      const { hourlyRate, currency } = event.data;
      return state.status === 'initial' ? state : { ...state, rate: { hourlyRate, currency } };
    }
    case 'TaskEstimated': {
      const { taskId, estimate, revision } = event.data;
      return withTask(state, taskId, { removed: false, revision, estimate });
    }
    case 'TaskEstimateRemoved': {
      const { taskId } = event.data;
      const task = taskOf(state, taskId);
      return withTask(state, taskId, { revision: task?.revision ?? 0, estimate: null, removed: true });
    }
    case 'EstimateArchived':
      return state.status === 'initial'
        ? { status: 'archived', ownerId: null, teamId: null, rate: null, tasks: state.tasks }
        : { ...state, status: 'archived' };
    case 'CommandRejected':
      return state;
  }
}

function withTask(state: EstimateState, taskId: string, task: TaskState): EstimateState {
  const b = bucketOf(taskId);
  return { ...state, tasks: { ...state.tasks, [b]: { ...state.tasks[b], [taskId]: task } } };
}
