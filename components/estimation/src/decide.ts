import {
  reject,
  unreachable,
  type Decision,
  type EstimateCommand,
  type EstimateEvent,
} from '@devpie/client-events';
import { liveTask, taskOf, type EstimateState } from './estimate';

/**
 * OpenEstimate, RegisterTask and RemoveTaskEstimate come from a reactor and may arrive in any
 * order, so all are valid on an initial estimate; the user's commands (SetRate, EstimateTask) need an open one.
 * ArchiveEstimate is valid from initial too, so a destroyed project's estimate always ends archived.
 */
export function decide(command: EstimateCommand, state: EstimateState): Decision<EstimateEvent> {
  const { projectId } = command.data;
  switch (command.type) {
    case 'OpenEstimate': {
      if (state.status === 'open') return reject('AlreadyExists', `estimate ${projectId} is already open`);
      if (state.status === 'archived') return archived(projectId);
      const { ownerId, teamId } = command.data;
      return { type: 'EstimateOpened', data: { projectId, ownerId, teamId } };
    }
    case 'RegisterTask': {
      const { taskId } = command.data;
      if (state.status === 'archived') return archived(projectId);
      if (taskOf(state, taskId)) return reject('AlreadyExists', `task ${taskId} is known`);
      return { type: 'TaskRegistered', data: { projectId, taskId } };
    }
    case 'SetRate': {
      if (state.status === 'initial') return notFound(projectId);
      if (state.status === 'archived') return archived(projectId);
      const { hourlyRate, currency } = command.data;
      return { type: 'RateSet', data: { projectId, hourlyRate, currency } };
    }
    case 'EstimateTask': {
      const { taskId, estimate } = command.data;
      if (state.status === 'initial') return notFound(projectId);
      if (state.status === 'archived') return archived(projectId);
      const task = liveTask(state, taskId);
      if (!task) return taskNotFound(taskId);
      return { type: 'TaskEstimated', data: { projectId, taskId, estimate, revision: task.revision + 1 } };
    }
    case 'RemoveTaskEstimate': {
      const { taskId } = command.data;
      if (state.status === 'archived') return archived(projectId);
      // The reactor's commands can overtake each other (a TaskAdded whose reaction is retried
      // after its TaskDestroyed's): a task not registered yet is removed all the same, so that
      // its late RegisterTask finds it removed and is refused.
      if (taskOf(state, taskId) && !liveTask(state, taskId)) return taskNotFound(taskId);
      return { type: 'TaskEstimateRemoved', data: { projectId, taskId } };
    }
    case 'ArchiveEstimate':
      if (state.status === 'archived') return archived(projectId);
      return { type: 'EstimateArchived', data: { projectId } };
    default:
      return unreachable(command);
  }
}

const notFound = (projectId: string) => reject('NotFound', `estimate ${projectId} is not open`);
const archived = (projectId: string) => reject('EstimateArchived', `estimate ${projectId} is archived`);
const taskNotFound = (taskId: string) => reject('TaskNotFound', `task ${taskId} is not in this estimate`);
