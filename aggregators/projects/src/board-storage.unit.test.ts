import {
  DEFAULT_COLUMNS,
  childWrites,
  joinDoc,
  newId,
  projectEvents,
  type Doc,
  type Envelope,
} from '@devpie/client-events';
import { foldAll, msg } from '@devpie/client-events/testing';
import { boardStorage, TASKS, type StoredBoard } from './board-storage';
import type { ProjectDoc } from './documents';
import { projectsProjection } from './projection';
import { PROJECTS } from './tables';

/** A board with three tasks over two columns, folded in memory. */
function boardWithTasks() {
  const projectId = newId();
  const ownerId = newId();
  const columns = DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title }));
  const tasks = [newId(), newId(), newId()];
  const e = (type: string, data: object): Envelope => msg(type, { projectId, ...data }, { userId: ownerId });
  const added = (taskId: string, columnId: string, index: number, n: number) =>
    e('TaskAdded', {
      taskId,
      columnId,
      index,
      key: `B-${n}`,
      number: n,
      title: `Task ${n}`,
      content: 'notes',
      assigneeId: null,
    });
  const events = [
    e('ProjectAdded', {
      ownerId,
      teamId: null,
      name: 'Board',
      description: '',
      prefix: 'B',
      public: false,
      columns,
    }),
    added(tasks[0]!, columns[0]!.columnId, 0, 1),
    added(tasks[1]!, columns[0]!.columnId, 1, 2),
    added(tasks[2]!, columns[1]!.columnId, 0, 3),
  ];
  const view = foldAll(projectsProjection, events);
  return { projectId, columns, tasks, e, view, board: view.get(PROJECTS, projectId) as ProjectDoc };
}

test('the stored board lists each column’s task ids; joined with its tasks it is the board again', () => {
  const { board, tasks, columns } = boardWithTasks();
  const header = boardStorage.header(board) as StoredBoard;
  expect(header.columns.map((c) => c.taskIds)).toEqual([[tasks[0], tasks[1]], [tasks[2]], [], []]);
  expect(JSON.stringify(header)).not.toContain('notes');
  expect(header.columns.map((c) => [c.id, c.title])).toEqual(columns.map((c) => [c.columnId, c.title]));
  const rows = boardStorage.children(board);
  // the child rows in any order give back the same board
  expect(joinDoc(boardStorage, header, [...rows].reverse())).toEqual(board);
});

test('an event writes only the tasks it changed; a destroyed task or board deletes its rows', () => {
  const { projectId, tasks, columns, e, view, board } = boardWithTasks();
  const rows = (before: Doc | undefined, after: Doc | null) =>
    childWrites(boardStorage, projectId, before, after);
  let position = 4;
  let current: ProjectDoc = view.get(PROJECTS, projectId) as ProjectDoc;
  const next = (event: Envelope) => {
    const before = current;
    const parsed = projectEvents.parse(event);
    const [w] = projectsProjection.fold({ get: () => current }, parsed, ++position);
    current = w!.doc as ProjectDoc;
    return { before, after: (w!.doc as ProjectDoc | null) ?? null };
  };

  const renamed = next(e('TaskModified', { taskId: tasks[1], changes: { title: 'Renamed' } }));
  expect(rows(renamed.before, renamed.after)).toEqual([
    {
      table: TASKS,
      id: `${projectId}/${tasks[1]}`,
      doc: expect.objectContaining({ title: 'Renamed' }),
      created: false,
    },
  ]);
  // within its column a move changes the order (the header), not the task
  const within = next(
    e('TaskMoved', {
      taskId: tasks[1],
      fromColumnId: columns[0]!.columnId,
      fromIndex: 1,
      toColumnId: columns[0]!.columnId,
      index: 0,
    }),
  );
  expect(rows(within.before, within.after)).toEqual([]);
  const across = next(
    e('TaskMoved', {
      taskId: tasks[0],
      fromColumnId: columns[0]!.columnId,
      fromIndex: 1,
      toColumnId: columns[2]!.columnId,
      index: 0,
    }),
  );
  expect(rows(across.before, across.after)).toEqual([
    {
      table: TASKS,
      id: `${projectId}/${tasks[0]}`,
      doc: expect.objectContaining({ columnId: columns[2]!.columnId }),
      created: false,
    },
  ]);
  const destroyed = next(e('TaskDestroyed', { taskId: tasks[2], columnId: columns[1]!.columnId }));
  expect(rows(destroyed.before, destroyed.after)).toEqual([
    { table: TASKS, id: `${projectId}/${tasks[2]}`, doc: null, created: false },
  ]);
  // a new board's tasks are all written; a destroyed board's all deleted
  expect(rows(undefined, board).map((w) => [w.id, w.created])).toEqual(
    tasks.map((t) => [`${projectId}/${t}`, true]),
  );
  const gone = next(e('ProjectDestroyed', {}));
  expect(gone.after).toBeNull();
  expect(rows(gone.before, gone.after).map((w) => [w.id, w.doc])).toEqual([
    [`${projectId}/${tasks[1]}`, null],
    [`${projectId}/${tasks[0]}`, null],
  ]);
});

test('a child rebuilt equal to what it was is not written again', () => {
  const { projectId, board } = boardWithTasks();
  const copy = JSON.parse(JSON.stringify(board)) as ProjectDoc;
  expect(childWrites(boardStorage, projectId, board, copy)).toEqual([]);
});
