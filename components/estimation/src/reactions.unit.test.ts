import { estimateCommands, newId, projectEvents, type ProjectEvent } from '@devpie/client-events';
import { msg } from '@devpie/client-events/testing';
import { reactToProjects } from './reactions';

const origin = {
  userId: newId(),
  traceId: newId(),
  correlationId: newId(),
  time: '2026-03-04T05:06:07.000Z',
};

function event(type: string, data: unknown): ProjectEvent {
  return projectEvents.parse(msg(type, data, origin));
}

function fixture() {
  return { projectId: newId(), ownerId: newId(), teamId: newId(), columnId: newId(), taskId: newId() };
}

/** The single reaction's command, checked against the estimate contract as the reactor would publish it. */
function reactionTo(e: ProjectEvent) {
  const reactions = reactToProjects(e);
  expect(reactions).toHaveLength(1);
  const [reaction] = reactions;
  expect(reaction!.commands).toBe(estimateCommands);
  const command = estimateCommands.parse({ ...reaction!.command, id: newId() });
  expect(command.metadata).toEqual({
    traceId: origin.traceId,
    correlationId: origin.correlationId,
    causationId: e.id,
    time: origin.time,
    userId: origin.userId,
    schemaVersion: e.metadata.schemaVersion,
  });
  return { type: command.type, data: command.data };
}

describe('reactToProjects', () => {
  it('opens an estimate for a new project', () => {
    const { projectId, ownerId, teamId, columnId } = fixture();
    const added = event('ProjectAdded', {
      projectId,
      ownerId,
      teamId,
      name: 'Site',
      description: '',
      prefix: 'SITE',
      public: false,
      columns: [{ columnId, title: 'To Do' }],
    });
    expect(reactionTo(added)).toEqual({ type: 'OpenEstimate', data: { projectId, ownerId, teamId } });
  });

  it('registers a new task', () => {
    const { projectId, columnId, taskId } = fixture();
    const added = event('TaskAdded', {
      projectId,
      columnId,
      taskId,
      key: 'SITE-1',
      number: 1,
      title: 'Home page',
      content: '',
      assigneeId: null,
      index: 0,
    });
    expect(reactionTo(added)).toEqual({ type: 'RegisterTask', data: { projectId, taskId } });
  });

  it('removes the estimate of a destroyed task', () => {
    const { projectId, columnId, taskId } = fixture();
    const destroyed = event('TaskDestroyed', { projectId, taskId, columnId });
    expect(reactionTo(destroyed)).toEqual({ type: 'RemoveTaskEstimate', data: { projectId, taskId } });
  });

  it('archives the estimate of a destroyed project', () => {
    const { projectId } = fixture();
    expect(reactionTo(event('ProjectDestroyed', { projectId }))).toEqual({
      type: 'ArchiveEstimate',
      data: { projectId },
    });
  });

  it('ignores every other event', () => {
    const { projectId, columnId, taskId } = fixture();
    const others = [
      event('ProjectModified', { projectId, changes: { name: 'Other' } }),
      event('ColumnAdded', { projectId, columnId, title: 'Later' }),
      event('ColumnModified', { projectId, columnId, title: 'Soon' }),
      event('ColumnDestroyed', { projectId, columnId }),
      event('TaskModified', { projectId, taskId, changes: { title: 'Renamed' } }),
      event('TaskMoved', {
        projectId,
        taskId,
        fromColumnId: columnId,
        fromIndex: 0,
        toColumnId: newId(),
        index: 0,
      }),
      event('CommandRejected', {
        commandId: newId(),
        commandType: 'AddTask',
        reason: 'ColumnNotFound',
        message: 'no such column',
      }),
    ];
    for (const e of others) expect(reactToProjects(e)).toEqual([]);
  });
});
