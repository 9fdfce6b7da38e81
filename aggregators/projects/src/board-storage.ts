import type { Doc, SplitDoc } from '@devpie/client-events';
import type { ColumnDoc, ProjectDoc, TaskDoc } from './documents';

/** Each board's tasks, one row each (id `<projectId>/<taskId>`). */
export const TASKS = 'tasks';

/** A board as its row stores it: each column lists its tasks' ids, the tasks are rows of TASKS. */
export type StoredBoard = Omit<ProjectDoc, 'columns'> & {
  columns: (Omit<ColumnDoc, 'tasks'> & { taskIds: string[] })[];
};

/**
 * Boards are stored split: moving a task rewrites the board's small header (the columns' task
 * ids), editing one rewrites its row, and neither rewrites every task of the board.
 */
export const boardStorage: SplitDoc = {
  table: TASKS,
  children(doc) {
    // a loop, not flatMap: called twice per event folded, where flatMap took a fifth of the fold
    const tasks: TaskDoc[] = [];
    for (const column of (doc as ProjectDoc).columns) for (const task of column.tasks) tasks.push(task);
    return tasks;
  },
  key: (task) => (task as TaskDoc).id,
  header(doc): Doc {
    const board = doc as ProjectDoc;
    const stored: StoredBoard = {
      ...board,
      columns: board.columns.map(({ tasks, ...column }) => ({ ...column, taskIds: tasks.map((t) => t.id) })),
    };
    return stored;
  },
  join(header, tasks): Doc {
    const stored = header as StoredBoard;
    const board: ProjectDoc = {
      ...stored,
      columns: stored.columns.map(({ taskIds, ...column }) => ({
        ...column,
        tasks: taskIds.flatMap((id) => (tasks.has(id) ? [tasks.get(id) as TaskDoc] : [])),
      })),
    };
    return board;
  },
};
