import { newId, type Doc, type Envelope, type ViewWrite } from '@devpie/client-events';
import { foldAll, msg } from '@devpie/client-events/testing';
import { totalsOf, type EstimateDoc } from './estimate-doc';
import type { EstimateHistoryDoc } from './estimate-history';
import { ESTIMATES, estimationProjection } from './projection';

const T1 = '2026-02-01T10:00:00.000Z';

function board() {
  const ids = {
    projectId: newId(),
    ownerId: newId(),
    teamId: newId(),
    todo: newId(),
    doing: newId(),
    done: newId(),
    a: newId(),
    b: newId(),
    c: newId(),
  };
  const { projectId, ownerId, teamId, todo, doing, done } = ids;
  const by = { userId: ownerId, time: T1 };
  const ev = (type: string, data: Record<string, unknown>) => msg(type, { projectId, ...data }, by);
  const task = (taskId: string, columnId: string, index: number, title: string, number: number) =>
    ev('TaskAdded', {
      columnId,
      taskId,
      key: `W-${number}`,
      number,
      title,
      content: '',
      assigneeId: null,
      index,
    });
  const added = ev('ProjectAdded', {
    ownerId,
    teamId,
    name: 'Website',
    description: '',
    prefix: 'W',
    public: false,
    columns: [
      { columnId: todo, title: 'To Do' },
      { columnId: doing, title: 'Doing' },
      { columnId: done, title: 'Done' },
    ],
  });
  return { ...ids, by, ev, task, added };
}

const estimates = (rows: ReturnType<typeof foldAll>, projectId: string) =>
  rows.get(ESTIMATES, projectId) as EstimateDoc | undefined;

const lineOrder = (doc: EstimateDoc | undefined) => doc?.lines.map((l) => [l.title, l.columnTitle]);

describe('estimationProjection: estimates', () => {
  it('creates the estimate from the project with its columns and no lines', () => {
    const { projectId, ownerId, teamId, todo, doing, done, added } = board();
    const doc = estimates(foldAll(estimationProjection, [added]), projectId);
    expect(doc).toEqual({
      projectId,
      name: 'Website',
      ownerId,
      teamId,
      opened: false,
      archived: false,
      rate: null,
      columns: { [todo]: 'To Do', [doing]: 'Doing', [done]: 'Done' },
      columnOrder: [todo, doing, done],
      lines: [],
      removedTaskIds: [],
      totals: {
        expectedHours: '0.00',
        sigmaHours: '0.00',
        low: '0.00',
        high: '0.00',
        unestimated: 0,
        cost: null,
      },
      updatedAt: T1,
      version: 1,
    });
  });

  it('adds each task as an unestimated line in board order', () => {
    const { projectId, todo, doing, a, b, c, ev, task, added } = board();
    const events = [
      added,
      task(a, doing, 0, 'Design', 1),
      task(b, todo, 0, 'Copy', 2),
      task(c, todo, 0, 'Hosting', 3),
      ev('TaskRegistered', { taskId: a }),
    ];
    const doc = estimates(foldAll(estimationProjection, events), projectId);
    expect(lineOrder(doc)).toEqual([
      ['Hosting', 'To Do'],
      ['Copy', 'To Do'],
      ['Design', 'Doing'],
    ]);
    expect(doc?.lines[2]).toEqual({
      taskId: a,
      title: 'Design',
      columnId: doing,
      columnTitle: 'Doing',
      estimate: null,
      revision: 0,
      expected: null,
      sigma: null,
      registered: true,
    });
    // Projects' TaskAdded shows the line; only Estimation's TaskRegistered makes it estimable
    expect(doc?.lines.map((l) => l.registered)).toEqual([false, false, true]);
    expect(doc?.totals.unestimated).toBe(3);
    expect(doc?.version).toBe(5);
  });

  it('follows the board: titles, moves, columns and their order', () => {
    const { projectId, todo, doing, done, a, b, c, ev, task, added } = board();
    const review = newId();
    const events = [
      added,
      task(a, todo, 0, 'Design', 1),
      task(b, todo, 1, 'Copy', 2),
      task(c, todo, 2, 'Hosting', 3),
      ev('TaskModified', { taskId: b, changes: { title: 'Copywriting' } }),
      ev('TaskMoved', { taskId: c, fromColumnId: todo, fromIndex: 2, toColumnId: todo, index: 0 }),
      ev('TaskMoved', { taskId: a, fromColumnId: todo, fromIndex: 1, toColumnId: done, index: 0 }),
      ev('ColumnModified', { columnId: done, title: 'Shipped' }),
      ev('ColumnAdded', { columnId: review, title: 'Review' }),
      ev('TaskMoved', { taskId: b, fromColumnId: todo, fromIndex: 1, toColumnId: review, index: 7 }),
    ];
    const rows = foldAll(estimationProjection, events);
    expect(lineOrder(estimates(rows, projectId))).toEqual([
      ['Hosting', 'To Do'],
      ['Design', 'Shipped'],
      ['Copywriting', 'Review'],
    ]);
    const reordered = [review, done, doing, todo];
    foldAll(
      estimationProjection,
      [ev('ProjectModified', { changes: { name: 'Web site', columnOrder: reordered } })],
      rows.rows,
    );
    const doc = estimates(rows, projectId);
    expect(doc?.name).toBe('Web site');
    expect(doc?.columnOrder).toEqual(reordered);
    expect(lineOrder(doc)).toEqual([
      ['Copywriting', 'Review'],
      ['Design', 'Shipped'],
      ['Hosting', 'To Do'],
    ]);
  });

  it('forgets a destroyed column', () => {
    const { projectId, todo, doing, done, ev, added } = board();
    const doc = estimates(
      foldAll(estimationProjection, [added, ev('ColumnDestroyed', { columnId: doing })]),
      projectId,
    );
    expect(doc?.columns).toEqual({ [todo]: 'To Do', [done]: 'Done' });
    expect(doc?.columnOrder).toEqual([todo, done]);
  });

  it('computes line figures, totals and cost from estimates and the rate', () => {
    const { projectId, ownerId, teamId, todo, a, b, c, ev, task, added } = board();
    const events = [
      added,
      ev('EstimateOpened', { ownerId, teamId }),
      task(a, todo, 0, 'Design', 1),
      task(b, todo, 1, 'Copy', 2),
      task(c, todo, 2, 'Hosting', 3),
      ev('TaskEstimated', { taskId: a, estimate: { optimistic: 1, likely: 2, pessimistic: 3 }, revision: 1 }),
      ev('TaskEstimated', { taskId: b, estimate: { optimistic: 2, likely: 3, pessimistic: 4 }, revision: 1 }),
      ev('TaskEstimated', {
        taskId: b,
        estimate: { optimistic: 2, likely: 4, pessimistic: 12 },
        revision: 2,
      }),
      ev('RateSet', { hourlyRate: 10_000, currency: 'EUR' }),
    ];
    const doc = estimates(foldAll(estimationProjection, events), projectId);
    expect(doc?.opened).toBe(true);
    expect(doc?.rate).toEqual({ hourlyRate: 10_000, currency: 'EUR' });
    expect(doc?.lines.map((l) => [l.revision, l.expected, l.sigma])).toEqual([
      [1, '2.00', '0.33'],
      [2, '5.00', '1.67'],
      [0, null, null],
    ]);
    expect(doc?.lines[1]?.estimate).toEqual({ optimistic: 2, likely: 4, pessimistic: 12 });
    expect(doc?.totals).toEqual({
      expectedHours: '7.00',
      sigmaHours: '1.70',
      low: '3.60',
      high: '10.40',
      unestimated: 1,
      cost: {
        currency: 'EUR',
        hourlyRate: { minor: 10_000, amount: '100.00' },
        expected: { minor: 70_000, amount: '700.00' },
        low: { minor: 36_007, amount: '360.07' },
        high: { minor: 103_993, amount: '1039.93' },
      },
    });
  });

  it('keeps the totals equal to a quote of every line after each event, whichever event it is', () => {
    const { projectId, ownerId, teamId, todo, doing, a, b, c, ev, task, added } = board();
    const d = newId();
    const estimate = (likely: number) => ({ optimistic: 1, likely, pessimistic: likely + 4 });
    const events = [
      added,
      ev('EstimateOpened', { ownerId, teamId }),
      // Estimation hears of d and estimates it before Projects adds it
      ev('TaskRegistered', { taskId: d }),
      ev('TaskEstimated', { taskId: d, estimate: estimate(3), revision: 1 }),
      task(a, todo, 0, 'Design', 1),
      task(b, todo, 1, 'Copy', 2),
      task(d, doing, 0, 'Late', 4),
      ev('TaskRegistered', { taskId: a }),
      ev('TaskEstimated', { taskId: a, estimate: estimate(2), revision: 1 }),
      ev('RateSet', { hourlyRate: 12_500, currency: 'EUR' }),
      task(c, doing, 1, 'Hosting', 3),
      ev('TaskModified', { taskId: a, changes: { title: 'Design v2' } }),
      ev('TaskMoved', { taskId: a, fromColumnId: todo, fromIndex: 0, toColumnId: doing, index: 0 }),
      ev('ColumnAdded', { columnId: newId(), title: 'Blocked' }),
      ev('ColumnModified', { columnId: doing, title: 'In progress' }),
      ev('ProjectModified', { changes: { name: 'Shop', columnOrder: [doing, todo] } }),
      ev('TaskEstimated', { taskId: b, estimate: estimate(5), revision: 1 }),
      ev('TaskEstimated', { taskId: a, estimate: estimate(8), revision: 2 }),
      ev('TaskDestroyed', { taskId: d, columnId: doing }),
      ev('TaskEstimateRemoved', { taskId: b }),
      ev('ColumnDestroyed', { columnId: todo }),
      ev('EstimateArchived', {}),
    ];
    for (let n = 1; n <= events.length; n++) {
      const doc = estimates(foldAll(estimationProjection, events.slice(0, n)), projectId)!;
      expect({ after: events[n - 1]!.type, totals: doc.totals }).toEqual({
        after: events[n - 1]!.type,
        totals: totalsOf(doc.lines, doc.rate),
      });
    }
    const doc = estimates(foldAll(estimationProjection, events), projectId)!;
    expect(doc.totals.unestimated).toBe(1);
    expect(doc.totals.cost).not.toBeNull();
  });

  it('drops the line of a destroyed task and keeps it out when Estimation catches up late', () => {
    const { projectId, todo, a, b, ev, task, added } = board();
    const estimate = { optimistic: 1, likely: 2, pessimistic: 3 };
    const events = [
      added,
      task(a, todo, 0, 'Design', 1),
      task(b, todo, 1, 'Copy', 2),
      ev('TaskRegistered', { taskId: a }),
      ev('TaskEstimated', { taskId: a, estimate, revision: 1 }),
      ev('TaskDestroyed', { taskId: a, columnId: todo }),
      ev('TaskDestroyed', { taskId: b, columnId: todo }),
      // the reactor lagged: Estimation registers and estimates b after Projects destroyed it
      ev('TaskRegistered', { taskId: b }),
      ev('TaskEstimated', { taskId: b, estimate, revision: 1 }),
      ev('TaskEstimateRemoved', { taskId: a }),
      ev('TaskEstimateRemoved', { taskId: b }),
    ];
    const rows = foldAll(estimationProjection, events);
    const doc = estimates(rows, projectId);
    expect(doc?.lines).toEqual([]);
    expect(doc?.removedTaskIds).toEqual([a, b]);
    expect(doc?.totals).toMatchObject({ expectedHours: '0.00', unestimated: 0 });
  });

  it('shows a task Estimation knows of before Projects does, unplaced', () => {
    const { projectId, a, ev } = board();
    const doc = estimates(foldAll(estimationProjection, [ev('TaskRegistered', { taskId: a })]), projectId);
    expect(doc?.lines).toEqual([
      {
        taskId: a,
        title: '',
        columnId: null,
        columnTitle: null,
        estimate: null,
        revision: 0,
        expected: null,
        sigma: null,
        registered: true,
      },
    ]);
  });

  it('places a line Estimation knew of first when Projects tells of it, keeping its estimate', () => {
    const { projectId, todo, doing, a, b, ev, task, added } = board();
    const estimate = { optimistic: 1, likely: 2, pessimistic: 3 };
    const doc = estimates(
      foldAll(estimationProjection, [
        added,
        task(b, doing, 0, 'Copy', 1),
        ev('TaskRegistered', { taskId: a }),
        ev('TaskEstimated', { taskId: a, estimate, revision: 1 }),
        task(a, todo, 0, 'Design', 2),
      ]),
      projectId,
    );
    expect(lineOrder(doc)).toEqual([
      ['Design', 'To Do'],
      ['Copy', 'Doing'],
    ]);
    expect(doc?.lines[0]).toMatchObject({ estimate, revision: 1, expected: '2.00', registered: true });
    expect(doc?.lines[1]).toMatchObject({ estimate: null, registered: false });
  });

  it('does not bring back a removed task', () => {
    const { projectId, todo, a, ev, task, added } = board();
    const doc = estimates(
      foldAll(estimationProjection, [
        added,
        ev('TaskEstimateRemoved', { taskId: a }),
        task(a, todo, 0, 'Design', 1),
        ev('TaskRegistered', { taskId: a }),
      ]),
      projectId,
    );
    expect(doc?.lines).toEqual([]);
  });

  it('archives', () => {
    const { projectId, ev, added } = board();
    const rows = foldAll(estimationProjection, [
      added,
      ev('ProjectDestroyed', {}),
      ev('EstimateArchived', {}),
    ]);
    expect(estimates(rows, projectId)).toMatchObject({ opened: false, archived: true, version: 3 });
  });

  it('writes nothing for a rejected command', () => {
    const { ownerId } = board();
    const rejected = msg(
      'CommandRejected',
      { commandId: newId(), commandType: 'SetRate', reason: 'NotFound', message: 'estimate is not open' },
      { userId: ownerId },
    );
    const parsed = estimationProjection.events[0]!.parse(rejected);
    expect(estimationProjection.touches(parsed)).toEqual([]);
    expect(estimationProjection.fold({ get: () => undefined }, parsed, 1)).toEqual([]);
  });

  it('reads only the estimate row', () => {
    const { projectId, todo, a, task, ev } = board();
    expect(estimationProjection.touches(task(a, todo, 0, 'Design', 1))).toEqual([
      { table: ESTIMATES, id: projectId },
    ]);
    expect(estimationProjection.touches(ev('RateSet', { hourlyRate: 1, currency: 'EUR' }))).toEqual([
      { table: ESTIMATES, id: projectId },
    ]);
    expect(estimationProjection.touches(msg('ProjectDestroyed', { projectId }))).toEqual([]);
  });

  it('folds the same through JSON (as stored in jsonb) as in memory', () => {
    const { ownerId, teamId, todo, a, b, ev, task, added } = board();
    const events = [
      added,
      ev('EstimateOpened', { ownerId, teamId }),
      task(a, todo, 0, 'Design', 1),
      task(b, todo, 0, 'Copy', 2),
      ev('RateSet', { hourlyRate: 12_345, currency: 'KWD' }),
      ev('TaskEstimated', {
        taskId: a,
        estimate: { optimistic: 0.5, likely: 1.25, pessimistic: 4 },
        revision: 1,
      }),
      ev('TaskEstimateRemoved', { taskId: b }),
      ev('EstimateArchived', {}),
    ];
    const stored = new Map<string, Doc>();
    events.forEach((event, i) => {
      const parsed = estimationProjection.events.find((s) => s.has(event.type))!.parse(event);
      const get = (t: string, id: string) => stored.get(`${t}/${id}`);
      const writes: ViewWrite[] = estimationProjection.fold({ get }, parsed, i + 1);
      for (const w of writes) stored.set(`${w.table}/${w.id}`, JSON.parse(JSON.stringify(w.doc)) as Doc);
    });
    expect(stored).toEqual(foldAll(estimationProjection, events).rows);
  });
});

describe('estimationProjection: estimate history', () => {
  it('records rate changes, estimates and removals with who and when', () => {
    const { projectId, ownerId, teamId, todo, a, ev, task, added } = board();
    const estimate = { optimistic: 1, likely: 2, pessimistic: 3 };
    const rateSet = ev('RateSet', { hourlyRate: 9000, currency: 'USD' });
    const estimated = msg(
      'TaskEstimated',
      { projectId, taskId: a, estimate, revision: 1 },
      { userId: teamId, time: '2026-02-02T08:00:00.000Z' },
    );
    const removed = ev('TaskEstimateRemoved', { taskId: a });
    const opened = ev('EstimateOpened', { ownerId, teamId });
    const rows = foldAll(estimationProjection, [
      added,
      opened,
      task(a, todo, 0, 'Design', 1),
      rateSet,
      estimated,
      removed,
    ]);
    const history = (e: Envelope) => rows.get('estimate_history', e.id) as EstimateHistoryDoc | undefined;
    expect(history(rateSet)).toEqual({
      projectId,
      kind: 'RateSet',
      rate: { hourlyRate: 9000, currency: 'USD' },
      by: ownerId,
      at: T1,
    });
    expect(history(estimated)).toEqual({
      projectId,
      taskId: a,
      kind: 'TaskEstimated',
      estimate,
      revision: 1,
      by: teamId,
      at: '2026-02-02T08:00:00.000Z',
    });
    expect(history(removed)).toEqual({
      projectId,
      taskId: a,
      kind: 'TaskEstimateRemoved',
      by: ownerId,
      at: T1,
    });
    expect(history(opened)).toBeUndefined();
    expect([...rows.rows.keys()].filter((k) => k.startsWith('estimate_history/'))).toHaveLength(3);
  });
});

describe('estimationProjection: team members', () => {
  it('follows memberships from the team’s creation to their removal', () => {
    const teamId = newId();
    const creator = newId();
    const editor = newId();
    const [first, second] = [newId(), newId()];
    const team = (type: string, data: Record<string, unknown>) =>
      msg(type, { teamId, ...data }, { userId: creator });
    const rows = foldAll(estimationProjection, [
      team('TeamAdded', { name: 'Studio', userId: creator, membershipId: first }),
      team('MembershipCreated', { membershipId: second, userId: editor, role: 'viewer' }),
      team('MembershipUpdated', {
        membershipId: second,
        userId: editor,
        role: 'editor',
        previousRole: 'viewer',
      }),
    ]);
    expect(rows.get('team_members', `${teamId}:${creator}`)).toEqual({
      teamId,
      userId: creator,
      role: 'administrator',
      membershipId: first,
    });
    expect(rows.get('team_members', `${teamId}:${editor}`)).toEqual({
      teamId,
      userId: editor,
      role: 'editor',
      membershipId: second,
    });
    foldAll(
      estimationProjection,
      [team('MembershipDeleted', { membershipId: second, userId: editor, role: 'editor' })],
      rows.rows,
    );
    expect(rows.get('team_members', `${teamId}:${editor}`)).toBeUndefined();
    expect(rows.get('team_members', `${teamId}:${creator}`)).toBeDefined();
  });
});

describe('estimationProjection: definition', () => {
  it('declares its tables, generated columns and categories', () => {
    expect(estimationProjection).toMatchObject({
      name: 'estimation',
      schema: 'estimation',
      categories: ['estimates', 'projects', 'teams'],
      ownCategories: ['estimates'],
    });
    expect(estimationProjection.events.map((s) => s.category)).toEqual(['estimates', 'projects', 'teams']);
    expect(
      estimationProjection.tables.map((t) => [t.name, t.children ?? t.columns?.map((c) => c.column)]),
    ).toEqual([
      ['estimates', ['owner_id', 'team_id']],
      ['estimate_lines', true],
      ['estimate_history', ['project_id']],
      ['team_members', ['user_id', 'team_id']],
    ]);
  });
});
