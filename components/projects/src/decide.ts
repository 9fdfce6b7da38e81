import {
  LIMITS,
  reject,
  unreachable,
  type Decision,
  type ProjectCommand,
  type ProjectEvent,
} from '@devpie/client-events';
import { findColumn, findTask, taskCount, type ActiveProject, type ProjectState } from './project';

type ChangeCommand = Exclude<ProjectCommand, { type: 'AddProject' }>;

export function decide(command: ProjectCommand, state: ProjectState): Decision<ProjectEvent> {
  if (command.type === 'AddProject') return addProject(command, state);
  switch (state.status) {
    case 'initial':
      return reject('NotFound', `project ${command.data.projectId} does not exist`);
    case 'destroyed':
      return reject('ProjectDestroyed', `project ${state.id} was destroyed`);
    case 'active':
      return decideOnProject(command, state);
    default:
      return unreachable(state);
  }
}

function addProject(
  command: Extract<ProjectCommand, { type: 'AddProject' }>,
  state: ProjectState,
): Decision<ProjectEvent> {
  const { projectId, name, description, teamId, prefix, columns } = command.data;
  // a destroyed project's id stays taken, like any other
  if (state.status !== 'initial') return reject('AlreadyExists', `project ${projectId} already exists`);
  const ownerId = command.metadata.userId;
  if (ownerId === null) return reject('Forbidden', 'a project needs an owner: the command has no userId');
  if (new Set(columns.map((c) => c.columnId)).size !== columns.length) {
    return reject('InvalidTransition', 'column ids must be unique');
  }
  return {
    type: 'ProjectAdded',
    data: { projectId, ownerId, teamId, name, description, prefix, public: command.data.public, columns },
  };
}

function decideOnProject(command: ChangeCommand, project: ActiveProject): Decision<ProjectEvent> {
  switch (command.type) {
    case 'ModifyProject': {
      const { columnOrder } = command.data.changes;
      if (
        columnOrder &&
        !isPermutation(
          columnOrder,
          project.columns.map((c) => c.id),
        )
      ) {
        return reject('InvalidTransition', 'columnOrder must list every column of the project exactly once');
      }
      return { type: 'ProjectModified', data: command.data };
    }
    case 'DestroyProject':
      return { type: 'ProjectDestroyed', data: command.data };
    case 'AddColumn': {
      if (findColumn(project, command.data.columnId)) {
        return reject('AlreadyExists', `column ${command.data.columnId} already exists`);
      }
      if (project.columns.length >= LIMITS.columns) {
        return reject('InvalidTransition', `a project has at most ${LIMITS.columns} columns`);
      }
      return { type: 'ColumnAdded', data: command.data };
    }
    case 'ModifyColumn':
      if (!findColumn(project, command.data.columnId)) return columnNotFound(command.data.columnId);
      return { type: 'ColumnModified', data: command.data };
    case 'DestroyColumn': {
      const column = findColumn(project, command.data.columnId);
      if (!column) return columnNotFound(command.data.columnId);
      if (column.tasks.length > 0) {
        return reject('ColumnNotEmpty', `column ${column.id} still has ${column.tasks.length} tasks`);
      }
      return { type: 'ColumnDestroyed', data: command.data };
    }
    case 'AddTask': {
      const { projectId, columnId, taskId, title, content, assigneeId } = command.data;
      const column = findColumn(project, columnId);
      if (!column) return columnNotFound(columnId);
      if (findTask(project, taskId)) return reject('AlreadyExists', `task ${taskId} already exists`);
      if (taskCount(project) >= LIMITS.tasks) {
        return reject('InvalidTransition', `a project has at most ${LIMITS.tasks} tasks`);
      }
      const number = project.nextNumber;
      return {
        type: 'TaskAdded',
        data: {
          projectId,
          columnId,
          taskId,
          key: `${project.prefix}-${number}`,
          number,
          title,
          content,
          assigneeId,
          index: column.tasks.length,
        },
      };
    }
    case 'ModifyTask':
      if (!findTask(project, command.data.taskId)) return taskNotFound(command.data.taskId);
      return { type: 'TaskModified', data: command.data };
    case 'MoveTask': {
      const { projectId, taskId, toColumnId, index } = command.data;
      const from = findTask(project, taskId);
      if (!from) return taskNotFound(taskId);
      const to = findColumn(project, toColumnId);
      if (!to) return columnNotFound(toColumnId);
      const room = to.id === from.column.id ? to.tasks.length - 1 : to.tasks.length;
      if (index > room) {
        return reject('IndexOutOfRange', `index ${index} is past the end of column ${to.id} (${room} tasks)`);
      }
      return {
        type: 'TaskMoved',
        data: { projectId, taskId, fromColumnId: from.column.id, fromIndex: from.index, toColumnId, index },
      };
    }
    case 'DestroyTask': {
      const found = findTask(project, command.data.taskId);
      if (!found) return taskNotFound(command.data.taskId);
      return { type: 'TaskDestroyed', data: { ...command.data, columnId: found.column.id } };
    }
    default:
      return unreachable(command);
  }
}

const columnNotFound = (columnId: string) => reject('ColumnNotFound', `column ${columnId} does not exist`);
const taskNotFound = (taskId: string) => reject('TaskNotFound', `task ${taskId} does not exist`);

function isPermutation(order: readonly string[], ids: readonly string[]): boolean {
  const wanted = new Set(ids);
  return (
    order.length === ids.length && new Set(order).size === order.length && order.every((id) => wanted.has(id))
  );
}
