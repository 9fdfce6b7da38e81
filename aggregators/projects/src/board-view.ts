import {
  unreachable,
  type ProjectEvent,
  type RowKey,
  type ViewRows,
  type ViewWrite,
} from '@devpie/client-events';
import type { ColumnDoc, ProjectDoc, TaskDoc } from './documents';
import { PROJECTS } from './tables';

type BoardChange = Exclude<ProjectEvent, { type: 'ProjectAdded' | 'ProjectDestroyed' | 'CommandRejected' }>;

export function boardTouches(event: ProjectEvent): RowKey[] {
  return event.type === 'CommandRejected' ? [] : [{ table: PROJECTS, id: event.data.projectId }];
}

/**
 * Folds one event into the board document. The document carries the position it was last
 * written at, so an event at or below it (folded before) changes nothing. Untouched columns
 * and tasks are shared with the previous document, never modified.
 */
export function foldBoard(rows: ViewRows, event: ProjectEvent, position: number): ViewWrite[] {
  if (event.type === 'CommandRejected') return [];
  const id = event.data.projectId;
  const current = rows.get(PROJECTS, id) as ProjectDoc | undefined;
  if (current && current.version >= position) return [];
  const time = utcTime(event.metadata.time);
  switch (event.type) {
    case 'ProjectAdded': {
      const { projectId, ownerId, teamId, name, description, prefix, columns } = event.data;
      const doc: ProjectDoc = {
        id: projectId,
        ownerId,
        teamId,
        name,
        description,
        prefix,
        public: event.data.public,
        active: true,
        columns: columns.map((c) => ({ id: c.columnId, title: c.title, tasks: [] })),
        taskCount: 0,
        createdAt: time,
        updatedAt: time,
        version: position,
      };
      return [{ table: PROJECTS, id, doc }];
    }
    case 'ProjectDestroyed':
      return [{ table: PROJECTS, id, doc: null }];
    default: {
      if (!current) return [];
      const changed = changeBoard(current, event);
      const doc: ProjectDoc = {
        ...changed,
        taskCount: countTasks(changed.columns),
        updatedAt: time,
        version: position,
      };
      return [{ table: PROJECTS, id, doc }];
    }
  }
}

/**
 * Metadata allows any offset; UTC keeps updated_sort in time order. A time already in
 * toISOString's form (a valid datetime of 24 characters ending in Z) is kept as it is.
 */
const utcTime = (time: string): string =>
  time.length === 24 && time.endsWith('Z') ? time : new Date(time).toISOString();

function changeBoard(board: ProjectDoc, event: BoardChange): ProjectDoc {
  switch (event.type) {
    case 'ProjectModified': {
      const { name, description, active, columnOrder } = event.data.changes;
      return {
        ...board,
        name: name ?? board.name,
        description: description ?? board.description,
        active: active ?? board.active,
        public: event.data.changes.public ?? board.public,
        columns: columnOrder ? reorder(board.columns, columnOrder) : board.columns,
      };
    }
    case 'ColumnAdded': {
      const { columnId, title } = event.data;
      if (board.columns.some((c) => c.id === columnId)) return board;
      return { ...board, columns: [...board.columns, { id: columnId, title, tasks: [] }] };
    }
    case 'ColumnModified': {
      const { columnId, title } = event.data;
      return { ...board, columns: updateColumn(board.columns, columnId, (c) => ({ ...c, title })) };
    }
    case 'ColumnDestroyed':
      return { ...board, columns: board.columns.filter((c) => c.id !== event.data.columnId) };
    case 'TaskAdded': {
      const { taskId, columnId, key, number, title, content, assigneeId, index } = event.data;
      const task: TaskDoc = { id: taskId, key, number, title, content, assigneeId, columnId };
      const columns = withoutTask(board.columns, taskId);
      return { ...board, columns: updateColumn(columns, columnId, (c) => insertAt(c, index, task)) };
    }
    case 'TaskModified': {
      const { title, content, assigneeId } = event.data.changes;
      const columns = updateTask(board.columns, event.data.taskId, (t) => ({
        ...t,
        title: title ?? t.title,
        content: content ?? t.content,
        assigneeId: assigneeId === undefined ? t.assigneeId : assigneeId,
      }));
      return { ...board, columns };
    }
    case 'TaskMoved': {
      const { taskId, toColumnId, index } = event.data;
      const task = findTask(board.columns, taskId);
      if (!task || !board.columns.some((c) => c.id === toColumnId)) return board;
      const moved = task.columnId === toColumnId ? task : { ...task, columnId: toColumnId };
      const columns = withoutTask(board.columns, taskId);
      return { ...board, columns: updateColumn(columns, toColumnId, (c) => insertAt(c, index, moved)) };
    }
    case 'TaskDestroyed':
      return { ...board, columns: withoutTask(board.columns, event.data.taskId) };
    default:
      return unreachable(event);
  }
}

function findTask(columns: ColumnDoc[], taskId: string): TaskDoc | undefined {
  for (const c of columns) {
    const task = c.tasks.find((t) => t.id === taskId);
    if (task) return task;
  }
  return undefined;
}

const countTasks = (columns: ColumnDoc[]): number => columns.reduce((n, c) => n + c.tasks.length, 0);

function updateColumn(
  columns: ColumnDoc[],
  columnId: string,
  update: (c: ColumnDoc) => ColumnDoc,
): ColumnDoc[] {
  return columns.map((c) => (c.id === columnId ? update(c) : c));
}

function updateTask(columns: ColumnDoc[], taskId: string, update: (t: TaskDoc) => TaskDoc): ColumnDoc[] {
  return columns.map((c) => {
    const at = c.tasks.findIndex((t) => t.id === taskId);
    return at < 0 ? c : { ...c, tasks: c.tasks.map((t, i) => (i === at ? update(t) : t)) };
  });
}

/** The columns without the task, wherever it is; a column without it is kept as it was. */
function withoutTask(columns: ColumnDoc[], taskId: string): ColumnDoc[] {
  return columns.map((c) =>
    c.tasks.some((t) => t.id === taskId) ? { ...c, tasks: c.tasks.filter((t) => t.id !== taskId) } : c,
  );
}

function insertAt(column: ColumnDoc, index: number, task: TaskDoc): ColumnDoc {
  const at = Math.min(index, column.tasks.length);
  return { ...column, tasks: [...column.tasks.slice(0, at), task, ...column.tasks.slice(at)] };
}

/** Columns in the given order; any the order leaves out keep their place at the end. */
function reorder(columns: ColumnDoc[], order: readonly string[]): ColumnDoc[] {
  const byId = new Map(columns.map((c) => [c.id, c]));
  const ordered = order.flatMap((id) => byId.get(id) ?? []);
  return [...ordered, ...columns.filter((c) => !order.includes(c.id))];
}
