import {
  estimateCommands,
  type DraftOf,
  type EstimateCommand,
  type ProjectEvent,
  type Reaction,
} from '@devpie/client-events';

/** The estimate commands a Projects event calls for: the estimate follows its project's lifecycle. */
export function reactToProjects(event: ProjectEvent): Reaction[] {
  const draft = commandFor(event);
  if (!draft) return [];
  const { traceId, correlationId, time, userId, schemaVersion } = event.metadata;
  const metadata = { traceId, correlationId, causationId: event.id, time, userId, schemaVersion };
  return [{ commands: estimateCommands, command: { ...draft, metadata } }];
}

function commandFor(event: ProjectEvent): DraftOf<EstimateCommand> | undefined {
  switch (event.type) {
    case 'ProjectAdded': {
      const { projectId, ownerId, teamId } = event.data;
      return { type: 'OpenEstimate', data: { projectId, ownerId, teamId } };
    }
    case 'TaskAdded': {
      const { projectId, taskId } = event.data;
      return { type: 'RegisterTask', data: { projectId, taskId } };
    }
    case 'TaskDestroyed': {
      const { projectId, taskId } = event.data;
      return { type: 'RemoveTaskEstimate', data: { projectId, taskId } };
    }
    case 'ProjectDestroyed':
      return { type: 'ArchiveEstimate', data: { projectId: event.data.projectId } };
    default:
      return undefined;
  }
}
