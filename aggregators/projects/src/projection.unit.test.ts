import { DEFAULT_COLUMNS, newId, type Envelope } from '@devpie/client-events';
import { foldAll, msg } from '@devpie/client-events/testing';
import type { ProjectDoc, TeamMemberDoc } from './documents';
import { projectsProjection } from './projection';
import { PROJECTS, TEAM_MEMBERS, teamMemberId } from './tables';

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

/** A board with Devpie's default columns and helpers for the events that change it. */
function board() {
  const projectId = newId();
  const ownerId = newId();
  const teamId = newId();
  const columns = DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title }));
  const [todo, doing, review, done] = columns.map((c) => c.columnId) as [string, string, string, string];
  const event = (type: string, data: object, minute = 0): Envelope =>
    msg(type, { projectId, ...data }, { userId: ownerId, time: at(minute) });
  const added = event('ProjectAdded', {
    ownerId,
    teamId,
    name: 'Website',
    description: 'The new site',
    prefix: 'WEB',
    public: false,
    columns,
  });
  let number = 0;
  const taskAdded = (columnId: string, index: number, taskId = newId(), minute = 1) => {
    number += 1;
    const data = { columnId, taskId, key: `WEB-${number}`, number, title: `Task ${number}` };
    return event('TaskAdded', { ...data, content: '', assigneeId: null, index }, minute);
  };
  const moved = (taskId: string, from: [string, number], to: [string, number], minute = 2) =>
    event(
      'TaskMoved',
      { taskId, fromColumnId: from[0], fromIndex: from[1], toColumnId: to[0], index: to[1] },
      minute,
    );
  return { projectId, ownerId, teamId, columns, todo, doing, review, done, event, added, taskAdded, moved };
}

const project = (rows: ReturnType<typeof foldAll>, id: string) => rows.get(PROJECTS, id) as ProjectDoc;
const taskIds = (doc: ProjectDoc) => doc.columns.map((c) => c.tasks.map((t) => t.id));

describe('projects table', () => {
  it('ProjectAdded writes the board with its columns, empty', () => {
    const b = board();
    expect(project(foldAll(projectsProjection, [b.added]), b.projectId)).toEqual({
      id: b.projectId,
      ownerId: b.ownerId,
      teamId: b.teamId,
      name: 'Website',
      description: 'The new site',
      prefix: 'WEB',
      public: false,
      active: true,
      columns: b.columns.map((c) => ({ id: c.columnId, title: c.title, tasks: [] })),
      taskCount: 0,
      createdAt: at(0),
      updatedAt: at(0),
      version: 1,
    });
  });

  it('keeps times in UTC so that updated_sort sorts by time', () => {
    const b = board();
    const renamed = msg(
      'ProjectModified',
      { projectId: b.projectId, changes: { name: 'Shop' } },
      { userId: b.ownerId, time: '2026-03-01T12:30:00.000+02:00' },
    );
    const doc = project(foldAll(projectsProjection, [b.added, renamed]), b.projectId);
    expect(doc.updatedAt).toBe('2026-03-01T10:30:00.000Z');
    // UTC without milliseconds, or with more digits: written as toISOString writes it
    for (const [time, utc] of [
      ['2026-03-01T10:30:00Z', '2026-03-01T10:30:00.000Z'],
      ['2026-03-01T10:30:00.1234Z', '2026-03-01T10:30:00.123Z'],
      ['2026-03-01T10:30:00.5-01:00', '2026-03-01T11:30:00.500Z'],
    ]) {
      const at = msg(
        'ProjectModified',
        { projectId: b.projectId, changes: { name: 'Shop' } },
        { userId: b.ownerId, time },
      );
      expect(project(foldAll(projectsProjection, [b.added, at]), b.projectId).updatedAt).toBe(utc);
    }
  });

  it('ProjectModified changes the fields given, reorders columns and moves updatedAt and version', () => {
    const b = board();
    const columnOrder = [b.done, b.review, b.doing, b.todo];
    const changes = { name: 'Shop', description: '', active: false, public: true, columnOrder };
    const task = newId();
    const rows = foldAll(projectsProjection, [
      b.added,
      b.taskAdded(b.doing, 0, task),
      b.event('ProjectModified', { changes }, 5),
    ]);
    const doc = project(rows, b.projectId);
    expect(doc).toMatchObject({ name: 'Shop', description: '', active: false, public: true, prefix: 'WEB' });
    expect(doc.columns.map((c) => c.id)).toEqual(columnOrder);
    expect(taskIds(doc)).toEqual([[], [], [task], []]);
    expect(doc).toMatchObject({ createdAt: at(0), updatedAt: at(5), version: 3, taskCount: 1 });
  });

  it('ColumnAdded, ColumnModified and ColumnDestroyed change the columns in place', () => {
    const b = board();
    const later = newId();
    const doc = project(
      foldAll(projectsProjection, [
        b.added,
        b.event('ColumnAdded', { columnId: later, title: 'Later' }),
        b.event('ColumnModified', { columnId: b.review, title: 'QA' }),
        b.event('ColumnDestroyed', { columnId: b.doing }),
      ]),
      b.projectId,
    );
    expect(doc.columns.map((c) => [c.id, c.title])).toEqual([
      [b.todo, 'To Do'],
      [b.review, 'QA'],
      [b.done, 'Done'],
      [later, 'Later'],
    ]);
  });

  it('TaskAdded puts the task at its index and counts it', () => {
    const b = board();
    const [t1, t2, t3] = [newId(), newId(), newId()];
    const doc = project(
      foldAll(projectsProjection, [
        b.added,
        b.taskAdded(b.todo, 0, t1),
        b.taskAdded(b.todo, 1, t2),
        b.taskAdded(b.done, 0, t3),
      ]),
      b.projectId,
    );
    expect(taskIds(doc)).toEqual([[t1, t2], [], [], [t3]]);
    expect(doc.taskCount).toBe(3);
    expect(doc.columns[0]?.tasks[1]).toEqual({
      id: t2,
      key: 'WEB-2',
      number: 2,
      title: 'Task 2',
      content: '',
      assigneeId: null,
      columnId: b.todo,
    });
  });

  it('TaskModified changes only the fields given', () => {
    const b = board();
    const task = newId();
    const assigneeId = newId();
    const history = [
      b.added,
      b.taskAdded(b.todo, 0, task),
      b.event('TaskModified', { taskId: task, changes: { content: 'Details', assigneeId } }),
    ];
    const assigned = project(foldAll(projectsProjection, history), b.projectId);
    expect(assigned.columns[0]?.tasks[0]).toMatchObject({ title: 'Task 1', content: 'Details', assigneeId });
    const unassign = b.event('TaskModified', { taskId: task, changes: { assigneeId: null } });
    const unassigned = project(foldAll(projectsProjection, [...history, unassign]), b.projectId);
    expect(unassigned.columns[0]?.tasks[0]).toMatchObject({ content: 'Details', assigneeId: null });
  });

  describe('TaskMoved', () => {
    function filled() {
      const b = board();
      const [ta, tb, tc, td] = [newId(), newId(), newId(), newId()];
      const history = [
        b.added,
        b.taskAdded(b.todo, 0, ta),
        b.taskAdded(b.todo, 1, tb),
        b.taskAdded(b.todo, 2, tc),
        b.taskAdded(b.doing, 0, td),
      ];
      return { ...b, ta, tb, tc, td, history };
    }

    it('reorders within a column, down and up', () => {
      const f = filled();
      const down = foldAll(projectsProjection, [...f.history, f.moved(f.ta, [f.todo, 0], [f.todo, 2])]);
      expect(taskIds(project(down, f.projectId))[0]).toEqual([f.tb, f.tc, f.ta]);
      const up = foldAll(projectsProjection, [...f.history, f.moved(f.tc, [f.todo, 2], [f.todo, 0])]);
      expect(taskIds(project(up, f.projectId))[0]).toEqual([f.tc, f.ta, f.tb]);
    });

    it('leaves the order as it was for a move to the same place', () => {
      const f = filled();
      const rows = foldAll(projectsProjection, [...f.history, f.moved(f.tb, [f.todo, 1], [f.todo, 1], 7)]);
      expect(taskIds(project(rows, f.projectId))[0]).toEqual([f.ta, f.tb, f.tc]);
      expect(project(rows, f.projectId).updatedAt).toBe(at(7));
    });

    it('moves across columns and sets the task column', () => {
      const f = filled();
      const rows = foldAll(projectsProjection, [
        ...f.history,
        f.moved(f.tb, [f.todo, 1], [f.doing, 1]),
        f.moved(f.tc, [f.todo, 1], [f.doing, 0]),
        f.moved(f.ta, [f.todo, 0], [f.done, 0]),
      ]);
      const doc = project(rows, f.projectId);
      expect(taskIds(doc)).toEqual([[], [f.tc, f.td, f.tb], [], [f.ta]]);
      expect(doc.columns[1]?.tasks.map((t) => t.columnId)).toEqual([f.doing, f.doing, f.doing]);
      expect(doc.columns[3]?.tasks[0]?.columnId).toBe(f.done);
      expect(doc.taskCount).toBe(4);
    });
  });

  it('TaskDestroyed removes the task and uncounts it', () => {
    const b = board();
    const [t1, t2] = [newId(), newId()];
    const doc = project(
      foldAll(projectsProjection, [
        b.added,
        b.taskAdded(b.review, 0, t1),
        b.taskAdded(b.review, 1, t2),
        b.event('TaskDestroyed', { taskId: t1, columnId: b.review }),
      ]),
      b.projectId,
    );
    expect(taskIds(doc)).toEqual([[], [], [t2], []]);
    expect(doc.taskCount).toBe(1);
  });

  it('ProjectDestroyed deletes the row, and later events for it write nothing', () => {
    const b = board();
    const rows = foldAll(projectsProjection, [
      b.added,
      b.taskAdded(b.todo, 0),
      b.event('ProjectDestroyed', {}),
      b.event('ColumnAdded', { columnId: newId(), title: 'Ghost' }),
    ]);
    expect(rows.get(PROJECTS, b.projectId)).toBeUndefined();
    expect(rows.rows.size).toBe(0);
  });

  it('CommandRejected touches and writes nothing', () => {
    const rejected = msg(
      'CommandRejected',
      { commandId: newId(), commandType: 'AddTask', reason: 'ColumnNotFound', message: 'no such column' },
      { userId: newId() },
    );
    expect(projectsProjection.touches(rejected)).toEqual([]);
    expect(projectsProjection.fold({ get: () => undefined }, rejected, 1)).toEqual([]);
    expect(foldAll(projectsProjection, [board().added, rejected]).rows.size).toBe(1);
  });

  it('touches the project row of each project event', () => {
    const b = board();
    expect(projectsProjection.touches(b.added)).toEqual([{ table: PROJECTS, id: b.projectId }]);
    expect(projectsProjection.touches(b.taskAdded(b.todo, 0))).toEqual([
      { table: PROJECTS, id: b.projectId },
    ]);
  });
});

describe('folding twice', () => {
  it('skips an event at or below the position the row was written at', () => {
    const b = board();
    const { rows, get } = foldAll(projectsProjection, [b.added, b.taskAdded(b.todo, 0)]);
    const view = { get: (t: string, id: string) => get(t, id) };
    expect(projectsProjection.fold(view, b.taskAdded(b.todo, 1), 2)).toEqual([]);
    expect(projectsProjection.fold(view, b.added, 1)).toEqual([]);
    expect(rows.size).toBe(1);
  });

  it('adds a task once and moves it to the same place, even at a later position', () => {
    const b = board();
    const task = newId();
    const add = b.taskAdded(b.todo, 0, task);
    const move = b.moved(task, [b.todo, 0], [b.done, 0]);
    const doc = project(foldAll(projectsProjection, [b.added, add, add, move, move]), b.projectId);
    expect(taskIds(doc)).toEqual([[], [], [], [task]]);
    expect(doc.taskCount).toBe(1);
  });

  it('never changes the documents it reads', () => {
    const b = board();
    const task = newId();
    const { rows, get } = foldAll(projectsProjection, [b.added, b.taskAdded(b.todo, 0, task)]);
    const before = JSON.stringify([...rows.entries()]);
    const view = { get: (t: string, id: string) => get(t, id) };
    const events = [
      b.moved(task, [b.todo, 0], [b.doing, 0]),
      b.event('TaskModified', { taskId: task, changes: { title: 'New' } }),
      b.event('TaskDestroyed', { taskId: task, columnId: b.todo }),
      b.event('ProjectModified', { changes: { columnOrder: [b.done, b.review, b.doing, b.todo] } }),
      b.event('ColumnModified', { columnId: b.todo, title: 'Backlog' }),
    ];
    events.forEach((e, i) => projectsProjection.fold(view, projectsProjection.events[0]!.parse(e), 10 + i));
    expect(JSON.stringify([...rows.entries()])).toBe(before);
  });
});

describe('team_members table', () => {
  function team() {
    const teamId = newId();
    const creator = newId();
    const event = (type: string, data: object) => msg(type, { teamId, ...data }, { userId: creator });
    return { teamId, creator, event };
  }
  const member = (rows: ReturnType<typeof foldAll>, teamId: string, userId: string) =>
    rows.get(TEAM_MEMBERS, teamMemberId(teamId, userId)) as TeamMemberDoc | undefined;

  it('TeamAdded makes its creator an administrator', () => {
    const t = team();
    const membershipId = newId();
    const rows = foldAll(projectsProjection, [
      t.event('TeamAdded', { name: 'Studio', userId: t.creator, membershipId }),
    ]);
    expect(member(rows, t.teamId, t.creator)).toEqual({
      teamId: t.teamId,
      userId: t.creator,
      role: 'administrator',
      membershipId,
    });
    expect(rows.rows.has(`${TEAM_MEMBERS}/${t.teamId}:${t.creator}`)).toBe(true);
  });

  it('MembershipCreated and MembershipUpdated write the member with their role', () => {
    const t = team();
    const [userId, membershipId] = [newId(), newId()];
    const rows = foldAll(projectsProjection, [
      t.event('MembershipCreated', { membershipId, userId, role: 'viewer' }),
    ]);
    expect(member(rows, t.teamId, userId)).toEqual({
      teamId: t.teamId,
      userId,
      role: 'viewer',
      membershipId,
    });
    foldAll(
      projectsProjection,
      [t.event('MembershipUpdated', { membershipId, userId, role: 'editor', previousRole: 'viewer' })],
      rows.rows,
    );
    expect(member(rows, t.teamId, userId)?.role).toBe('editor');
  });

  it('MembershipDeleted removes the member', () => {
    const t = team();
    const [userId, membershipId] = [newId(), newId()];
    const rows = foldAll(projectsProjection, [
      t.event('MembershipCreated', { membershipId, userId, role: 'commenter' }),
      t.event('MembershipDeleted', { membershipId, userId, role: 'commenter' }),
    ]);
    expect(member(rows, t.teamId, userId)).toBeUndefined();
    expect(rows.rows.size).toBe(0);
  });

  it('MembershipDeleted of an older membership keeps the current one', () => {
    const t = team();
    const userId = newId();
    const [old, current] = [newId(), newId()];
    const rows = foldAll(projectsProjection, [
      t.event('MembershipCreated', { membershipId: current, userId, role: 'editor' }),
      t.event('MembershipDeleted', { membershipId: old, userId, role: 'viewer' }),
    ]);
    expect(member(rows, t.teamId, userId)?.membershipId).toBe(current);
  });

  it('touches the member row, and nothing for a rejection', () => {
    const t = team();
    const userId = newId();
    expect(
      projectsProjection.touches(
        t.event('MembershipCreated', { membershipId: newId(), userId, role: 'viewer' }),
      ),
    ).toEqual([{ table: TEAM_MEMBERS, id: teamMemberId(t.teamId, userId) }]);
    const rejected = msg(
      'CommandRejected',
      {
        commandId: newId(),
        commandType: 'AddMembership',
        reason: 'AlreadyMember',
        message: 'already a member',
      },
      { userId: t.creator },
    );
    expect(projectsProjection.touches(rejected)).toEqual([]);
  });
});

describe('tables', () => {
  it('index what GET /projects filters and sorts on, with immutable expressions', () => {
    const [projects, tasks, members] = projectsProjection.tables;
    expect(tasks).toEqual({ name: 'tasks', children: true });
    expect(projects?.columns?.map((c) => c.column)).toEqual([
      'owner_id',
      'team_id',
      'active',
      'name_sort',
      'updated_sort',
    ]);
    expect(members?.columns?.map((c) => c.column)).toEqual(['user_id', 'team_id']);
    for (const c of [...(projects?.columns ?? []), ...(members?.columns ?? [])]) {
      expect(c.expression).not.toMatch(/timestamp|now\(/i);
    }
  });
});
