import {
  DEFAULT_COLUMNS,
  LIMITS,
  newId,
  type DraftOf,
  type ProjectCommand,
  type ProjectEvent,
} from '@devpie/client-events';
import { given, msg } from '@devpie/client-events/testing';
import { projectDecider } from './decider';
import type { ActiveProject, ProjectState } from './project';

type Event = DraftOf<ProjectEvent>;
type Command = DraftOf<ProjectCommand>;

/** A fresh board with Devpie's default columns, owned by `ownerId`. */
function board(prefix = 'WEB') {
  const projectId = newId();
  const ownerId = newId();
  const columns = DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title }));
  const [todo, doing, review, done] = columns.map((c) => c.columnId) as [string, string, string, string];
  const added: Event = {
    type: 'ProjectAdded',
    data: {
      projectId,
      ownerId,
      teamId: null,
      name: 'Website',
      description: '',
      prefix,
      public: false,
      columns,
    },
  };
  const taskAdded = (columnId: string, number: number, index: number, taskId = newId()): Event => ({
    type: 'TaskAdded',
    data: {
      projectId,
      columnId,
      taskId,
      key: `${prefix}-${number}`,
      number,
      title: `Task ${number}`,
      content: '',
      assigneeId: null,
      index,
    },
  });
  return { projectId, ownerId, columns, todo, doing, review, done, added, taskAdded };
}

/** A command as a client may send it, leaving out what the schema has defaults for. */
const withDefaults = (command: { type: Command['type']; data: object }) => command as unknown as Command;

const active = (state: ProjectState): ActiveProject => {
  if (state.status !== 'active') throw new Error(`project is ${state.status}`);
  return state;
};
const taskIdsOf = (state: ProjectState, columnId: string) =>
  active(state).columns.find((c) => c.id === columnId)?.tasks;

describe('AddProject', () => {
  it('adds a project owned by the requester', () => {
    const b = board();
    given(projectDecider)
      .when(
        {
          type: 'AddProject',
          data: {
            projectId: b.projectId,
            name: 'Website',
            description: '',
            teamId: null,
            prefix: 'WEB',
            public: false,
            columns: b.columns,
          },
        },
        { userId: b.ownerId },
      )
      .then(b.added);
  });

  it('fills in the defaults and keeps the team', () => {
    const b = board();
    const teamId = newId();
    const data = { projectId: b.projectId, name: 'Website', prefix: 'WEB', teamId, columns: [] };
    given(projectDecider)
      .when(withDefaults({ type: 'AddProject', data }), { userId: b.ownerId })
      .then({
        type: 'ProjectAdded',
        data: { ...data, ownerId: b.ownerId, description: '', public: false },
      });
  });

  it('starts active with empty columns and task number 1', () => {
    const b = board();
    const state = active(given(projectDecider, [b.added]).state);
    expect(state).toMatchObject({ id: b.projectId, ownerId: b.ownerId, active: true, nextNumber: 1 });
    expect(state.columns.map((c) => [c.title, c.tasks.length])).toEqual(DEFAULT_COLUMNS.map((t) => [t, 0]));
  });

  it('rejects an existing project', () => {
    const b = board();
    given(projectDecider, [b.added])
      .when(addProjectOf(b.projectId), { userId: b.ownerId })
      .thenRejects('AlreadyExists');
  });

  it('rejects a destroyed project: its id stays taken', () => {
    const b = board();
    given(projectDecider, [b.added, { type: 'ProjectDestroyed', data: { projectId: b.projectId } }])
      .when(addProjectOf(b.projectId), { userId: b.ownerId })
      .thenRejects('AlreadyExists');
  });

  it('rejects a command without a user', () => {
    given(projectDecider).when(addProjectOf(newId()), { userId: null }).thenRejects('Forbidden');
  });

  it('rejects duplicate column ids', () => {
    const columnId = newId();
    const command = addProjectOf(newId(), [
      { columnId, title: 'A' },
      { columnId, title: 'B' },
    ]);
    given(projectDecider).when(command, { userId: newId() }).thenRejects('InvalidTransition');
  });
});

function addProjectOf(projectId: string, columns: { columnId: string; title: string }[] = []): Command {
  return {
    type: 'AddProject',
    data: { projectId, name: 'P', description: '', teamId: null, prefix: 'P', public: false, columns },
  };
}

describe('commands on a project that is not there', () => {
  const commandsOn = (projectId: string): Command[] => {
    const [columnId, taskId] = [newId(), newId()];
    return [
      { type: 'ModifyProject', data: { projectId, changes: { name: 'New' } } },
      { type: 'DestroyProject', data: { projectId } },
      { type: 'AddColumn', data: { projectId, columnId, title: 'Later' } },
      { type: 'ModifyColumn', data: { projectId, columnId, title: 'Later' } },
      { type: 'DestroyColumn', data: { projectId, columnId } },
      {
        type: 'AddTask',
        data: { projectId, columnId, taskId, title: 'T', content: '', assigneeId: null },
      },
      { type: 'ModifyTask', data: { projectId, taskId, changes: { title: 'T2' } } },
      { type: 'MoveTask', data: { projectId, taskId, toColumnId: columnId, index: 0 } },
      { type: 'DestroyTask', data: { projectId, taskId } },
    ];
  };

  it.each(commandsOn(newId()).map((c) => [c.type, c]))('%s on a new id is NotFound', (_, command) => {
    given(projectDecider).when(command).thenRejects('NotFound');
  });

  it('every command on a destroyed project is ProjectDestroyed', () => {
    const b = board();
    const history = [b.added, { type: 'ProjectDestroyed', data: { projectId: b.projectId } } as Event];
    for (const command of commandsOn(b.projectId)) {
      given(projectDecider, history).when(command).thenRejects('ProjectDestroyed');
    }
  });
});

describe('ModifyProject', () => {
  it('modifies the fields it is given', () => {
    const b = board();
    const changes = { name: 'Shop', description: 'New shop', active: false, public: true };
    const { state } = given(projectDecider, [
      b.added,
      { type: 'ProjectModified', data: { projectId: b.projectId, changes } },
    ]);
    expect(active(state)).toMatchObject(changes);
    expect(active(state).prefix).toBe('WEB');
    given(projectDecider, [b.added])
      .when({ type: 'ModifyProject', data: { projectId: b.projectId, changes } })
      .then({ type: 'ProjectModified', data: { projectId: b.projectId, changes } });
  });

  it('reorders the columns with a permutation of their ids', () => {
    const b = board();
    const columnOrder = [b.done, b.todo, b.review, b.doing];
    const event: Event = {
      type: 'ProjectModified',
      data: { projectId: b.projectId, changes: { columnOrder } },
    };
    given(projectDecider, [b.added]).when({ type: 'ModifyProject', data: event.data }).then(event);
    const { state } = given(projectDecider, [b.added, b.taskAdded(b.doing, 1, 0), event]);
    expect(active(state).columns.map((c) => c.id)).toEqual(columnOrder);
    expect(taskIdsOf(state, b.doing)).toHaveLength(1);
  });

  it.each([
    ['a missing column', (b: ReturnType<typeof board>) => [b.todo, b.doing, b.review]],
    ['an unknown column', (b: ReturnType<typeof board>) => [b.todo, b.doing, b.review, newId()]],
    ['a repeated column', (b: ReturnType<typeof board>) => [b.todo, b.doing, b.review, b.review]],
    ['an extra column', (b: ReturnType<typeof board>) => [b.todo, b.doing, b.review, b.done, newId()]],
  ])('rejects a column order with %s', (_, order) => {
    const b = board();
    given(projectDecider, [b.added])
      .when({ type: 'ModifyProject', data: { projectId: b.projectId, changes: { columnOrder: order(b) } } })
      .thenRejects('InvalidTransition');
  });
});

describe('DestroyProject', () => {
  it('destroys the project, tasks and all', () => {
    const b = board();
    const event: Event = { type: 'ProjectDestroyed', data: { projectId: b.projectId } };
    given(projectDecider, [b.added, b.taskAdded(b.todo, 1, 0)])
      .when({ type: 'DestroyProject', data: { projectId: b.projectId } })
      .then(event);
    expect(given(projectDecider, [b.added, event]).state).toEqual({ status: 'destroyed', id: b.projectId });
  });
});

describe('AddColumn', () => {
  it('adds a column at the end', () => {
    const b = board();
    const event: Event = {
      type: 'ColumnAdded',
      data: { projectId: b.projectId, columnId: newId(), title: 'Later' },
    };
    given(projectDecider, [b.added]).when({ type: 'AddColumn', data: event.data }).then(event);
    const { state } = given(projectDecider, [b.added, event]);
    expect(active(state).columns.map((c) => c.title)).toEqual([...DEFAULT_COLUMNS, 'Later']);
  });

  it('rejects a column id that is taken', () => {
    const b = board();
    given(projectDecider, [b.added])
      .when({ type: 'AddColumn', data: { projectId: b.projectId, columnId: b.review, title: 'Again' } })
      .thenRejects('AlreadyExists');
  });

  it(`rejects a column beyond ${LIMITS.columns}`, () => {
    const b = board();
    const full: Event = {
      type: 'ProjectAdded',
      data: {
        ...(b.added.data as Extract<Event, { type: 'ProjectAdded' }>['data']),
        columns: Array.from({ length: LIMITS.columns }, (_, i) => ({ columnId: newId(), title: `C${i}` })),
      },
    };
    given(projectDecider, [full])
      .when({ type: 'AddColumn', data: { projectId: b.projectId, columnId: newId(), title: 'One more' } })
      .thenRejects('InvalidTransition');
  });
});

describe('ModifyColumn', () => {
  it('renames a column', () => {
    const b = board();
    const event: Event = {
      type: 'ColumnModified',
      data: { projectId: b.projectId, columnId: b.review, title: 'QA' },
    };
    given(projectDecider, [b.added]).when({ type: 'ModifyColumn', data: event.data }).then(event);
    const { state } = given(projectDecider, [b.added, event]);
    expect(active(state).columns.map((c) => c.title)).toEqual(['To Do', 'In Progress', 'QA', 'Done']);
  });

  it('rejects an unknown column', () => {
    const b = board();
    given(projectDecider, [b.added])
      .when({ type: 'ModifyColumn', data: { projectId: b.projectId, columnId: newId(), title: 'QA' } })
      .thenRejects('ColumnNotFound');
  });
});

describe('DestroyColumn', () => {
  it('destroys an empty column', () => {
    const b = board();
    const event: Event = { type: 'ColumnDestroyed', data: { projectId: b.projectId, columnId: b.review } };
    given(projectDecider, [b.added, b.taskAdded(b.todo, 1, 0)])
      .when({ type: 'DestroyColumn', data: event.data })
      .then(event);
    const { state } = given(projectDecider, [b.added, event]);
    expect(active(state).columns.map((c) => c.id)).toEqual([b.todo, b.doing, b.done]);
  });

  it('rejects a column with tasks', () => {
    const b = board();
    given(projectDecider, [b.added, b.taskAdded(b.review, 1, 0)])
      .when({ type: 'DestroyColumn', data: { projectId: b.projectId, columnId: b.review } })
      .thenRejects('ColumnNotEmpty');
  });

  it('accepts a column once its tasks moved away', () => {
    const b = board();
    const taskId = newId();
    given(projectDecider, [
      b.added,
      b.taskAdded(b.review, 1, 0, taskId),
      {
        type: 'TaskMoved',
        data: {
          projectId: b.projectId,
          taskId,
          fromColumnId: b.review,
          fromIndex: 0,
          toColumnId: b.done,
          index: 0,
        },
      },
    ])
      .when({ type: 'DestroyColumn', data: { projectId: b.projectId, columnId: b.review } })
      .then({ type: 'ColumnDestroyed', data: { projectId: b.projectId, columnId: b.review } });
  });

  it('rejects an unknown column', () => {
    const b = board();
    given(projectDecider, [b.added])
      .when({ type: 'DestroyColumn', data: { projectId: b.projectId, columnId: newId() } })
      .thenRejects('ColumnNotFound');
  });
});

describe('AddTask', () => {
  const addTask = (b: ReturnType<typeof board>, columnId: string, taskId = newId()): Command => ({
    type: 'AddTask',
    data: { projectId: b.projectId, columnId, taskId, title: 'Task', content: '', assigneeId: null },
  });

  it('numbers the first task 1 and puts it at the end of its column', () => {
    const b = board();
    const data = {
      projectId: b.projectId,
      columnId: b.todo,
      taskId: newId(),
      title: 'T',
      content: '',
      assigneeId: null,
    };
    given(projectDecider, [b.added])
      .when({ type: 'AddTask', data })
      .then({ type: 'TaskAdded', data: { ...data, key: 'WEB-1', number: 1, index: 0 } });
  });

  it('numbers tasks across the project and appends within the column', () => {
    const b = board('API2');
    const data = {
      projectId: b.projectId,
      columnId: b.todo,
      taskId: newId(),
      title: 'Third',
      content: 'x',
      assigneeId: newId(),
    };
    given(projectDecider, [b.added, b.taskAdded(b.todo, 1, 0), b.taskAdded(b.doing, 2, 0)])
      .when({ type: 'AddTask', data })
      .then({ type: 'TaskAdded', data: { ...data, key: 'API2-3', number: 3, index: 1 } });
  });

  it('fills in content and assignee', () => {
    const b = board();
    const taskId = newId();
    const data = { projectId: b.projectId, columnId: b.done, taskId, title: 'Ship' };
    given(projectDecider, [b.added])
      .when(withDefaults({ type: 'AddTask', data }))
      .then({
        type: 'TaskAdded',
        data: { ...data, content: '', assigneeId: null, key: 'WEB-1', number: 1, index: 0 },
      });
  });

  it('never reuses the number of a destroyed task', () => {
    const b = board();
    const [first, second] = [newId(), newId()];
    const history: Event[] = [
      b.added,
      b.taskAdded(b.todo, 1, 0, first),
      b.taskAdded(b.todo, 2, 1, second),
      { type: 'TaskDestroyed', data: { projectId: b.projectId, taskId: second, columnId: b.todo } },
      { type: 'TaskDestroyed', data: { projectId: b.projectId, taskId: first, columnId: b.todo } },
    ];
    const { decision } = given(projectDecider, history).when(addTask(b, b.todo));
    expect(decision).toMatchObject({ type: 'TaskAdded', data: { key: 'WEB-3', number: 3, index: 0 } });
  });

  it('rejects an unknown column', () => {
    const b = board();
    given(projectDecider, [b.added]).when(addTask(b, newId())).thenRejects('ColumnNotFound');
  });

  it('rejects a task id that is taken', () => {
    const b = board();
    const taskId = newId();
    given(projectDecider, [b.added, b.taskAdded(b.todo, 1, 0, taskId)])
      .when(addTask(b, b.doing, taskId))
      .thenRejects('AlreadyExists');
  });

  it(`rejects a task beyond ${LIMITS.tasks}`, () => {
    const b = board();
    const tasks = Array.from({ length: LIMITS.tasks }, (_, i) => b.taskAdded(b.todo, i + 1, i));
    given(projectDecider, [b.added, ...tasks])
      .when(addTask(b, b.doing))
      .thenRejects('InvalidTransition');
  });
});

describe('ModifyTask', () => {
  it('modifies a task', () => {
    const b = board();
    const taskId = newId();
    const assigneeId = newId();
    const changes = { title: 'Renamed', content: 'Details', assigneeId };
    const event: Event = { type: 'TaskModified', data: { projectId: b.projectId, taskId, changes } };
    given(projectDecider, [b.added, b.taskAdded(b.doing, 1, 0, taskId)])
      .when({ type: 'ModifyTask', data: event.data })
      .then(event);
    // the state keeps what decisions read: a task's text and assignee are the views'
    const before = given(projectDecider, [b.added, b.taskAdded(b.doing, 1, 0, taskId)]).state;
    const { state } = given(projectDecider, [b.added, b.taskAdded(b.doing, 1, 0, taskId), event]);
    expect(state).toEqual(before);
    expect(taskIdsOf(state, b.doing)).toEqual([taskId]);
  });

  it('rejects an unknown task', () => {
    const b = board();
    given(projectDecider, [b.added])
      .when({
        type: 'ModifyTask',
        data: { projectId: b.projectId, taskId: newId(), changes: { title: 'X' } },
      })
      .thenRejects('TaskNotFound');
  });
});

describe('MoveTask', () => {
  /** A board with tasks a, b, c in To Do and d in In Progress. */
  function filled() {
    const b = board();
    const [ta, tb, tc, td] = [newId(), newId(), newId(), newId()];
    const history: Event[] = [
      b.added,
      b.taskAdded(b.todo, 1, 0, ta),
      b.taskAdded(b.todo, 2, 1, tb),
      b.taskAdded(b.todo, 3, 2, tc),
      b.taskAdded(b.doing, 4, 0, td),
    ];
    const move = (taskId: string, toColumnId: string, index: number): Command => ({
      type: 'MoveTask',
      data: { projectId: b.projectId, taskId, toColumnId, index },
    });
    const moved = (
      taskId: string,
      fromColumnId: string,
      fromIndex: number,
      toColumnId: string,
      index: number,
    ) =>
      ({
        type: 'TaskMoved',
        data: { projectId: b.projectId, taskId, fromColumnId, fromIndex, toColumnId, index },
      }) as const;
    return { ...b, ta, tb, tc, td, history, move, moved };
  }

  it('moves a task down within its column', () => {
    const f = filled();
    const event = f.moved(f.ta, f.todo, 0, f.todo, 2);
    given(projectDecider, f.history)
      .when(f.move(f.ta, f.todo, 2))
      .then(event);
    expect(taskIdsOf(given(projectDecider, [...f.history, event]).state, f.todo)).toEqual([f.tb, f.tc, f.ta]);
  });

  it('moves a task up within its column', () => {
    const f = filled();
    const event = f.moved(f.tc, f.todo, 2, f.todo, 0);
    given(projectDecider, f.history)
      .when(f.move(f.tc, f.todo, 0))
      .then(event);
    expect(taskIdsOf(given(projectDecider, [...f.history, event]).state, f.todo)).toEqual([f.tc, f.ta, f.tb]);
  });

  it('accepts a move to the same place', () => {
    const f = filled();
    given(projectDecider, f.history)
      .when(f.move(f.tb, f.todo, 1))
      .then(f.moved(f.tb, f.todo, 1, f.todo, 1));
    const { state } = given(projectDecider, [...f.history, f.moved(f.tb, f.todo, 1, f.todo, 1)]);
    expect(taskIdsOf(state, f.todo)).toEqual([f.ta, f.tb, f.tc]);
  });

  it('moves a task across columns, to the end or in between', () => {
    const f = filled();
    const toEnd = f.moved(f.tb, f.todo, 1, f.doing, 1);
    given(projectDecider, f.history)
      .when(f.move(f.tb, f.doing, 1))
      .then(toEnd);
    const toStart = f.moved(f.tc, f.todo, 1, f.doing, 0);
    given(projectDecider, [...f.history, toEnd])
      .when(f.move(f.tc, f.doing, 0))
      .then(toStart);

    const { state } = given(projectDecider, [...f.history, toEnd, toStart]);
    expect(taskIdsOf(state, f.todo)).toEqual([f.ta]);
    expect(taskIdsOf(state, f.doing)).toEqual([f.tc, f.td, f.tb]);
  });

  it('moves a task into an empty column', () => {
    const f = filled();
    given(projectDecider, f.history)
      .when(f.move(f.td, f.done, 0))
      .then(f.moved(f.td, f.doing, 0, f.done, 0));
  });

  it('rejects an index past the end of another column', () => {
    const f = filled();
    given(projectDecider, f.history)
      .when(f.move(f.ta, f.doing, 2))
      .thenRejects('IndexOutOfRange');
  });

  it('rejects an index past the end of its own column, not counting the task itself', () => {
    const f = filled();
    given(projectDecider, f.history)
      .when(f.move(f.ta, f.todo, 3))
      .thenRejects('IndexOutOfRange');
  });

  it('rejects an unknown task', () => {
    const f = filled();
    given(projectDecider, f.history)
      .when(f.move(newId(), f.todo, 0))
      .thenRejects('TaskNotFound');
  });

  it('rejects an unknown column', () => {
    const f = filled();
    given(projectDecider, f.history)
      .when(f.move(f.ta, newId(), 0))
      .thenRejects('ColumnNotFound');
  });
});

describe('DestroyTask', () => {
  it('destroys a task, naming its column', () => {
    const b = board();
    const [first, second] = [newId(), newId()];
    const history = [b.added, b.taskAdded(b.review, 1, 0, first), b.taskAdded(b.review, 2, 1, second)];
    const event: Event = {
      type: 'TaskDestroyed',
      data: { projectId: b.projectId, taskId: first, columnId: b.review },
    };
    given(projectDecider, history)
      .when({ type: 'DestroyTask', data: { projectId: b.projectId, taskId: first } })
      .then(event);
    const { state } = given(projectDecider, [...history, event]);
    expect(taskIdsOf(state, b.review)).toEqual([second]);
    expect(active(state).nextNumber).toBe(3);
  });

  it('rejects an unknown or already destroyed task', () => {
    const b = board();
    const taskId = newId();
    given(projectDecider, [
      b.added,
      b.taskAdded(b.todo, 1, 0, taskId),
      { type: 'TaskDestroyed', data: { projectId: b.projectId, taskId, columnId: b.todo } },
    ])
      .when({ type: 'DestroyTask', data: { projectId: b.projectId, taskId } })
      .thenRejects('TaskNotFound');
  });
});

describe('evolve', () => {
  it('ignores recorded rejections', () => {
    const b = board();
    const before = given(projectDecider, [b.added]).state;
    const rejection = msg('CommandRejected', {
      commandId: newId(),
      commandType: 'AddTask',
      reason: 'ColumnNotFound' as const,
      message: 'no such column',
    });
    expect(projectDecider.evolve(before, rejection)).toBe(before);
  });

  it('keeps the state JSON-serialisable for snapshots', () => {
    const b = board();
    const { state } = given(projectDecider, [b.added, b.taskAdded(b.todo, 1, 0)]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('leaves the state it is given unchanged', () => {
    const b = board();
    const taskId = newId();
    const { state } = given(projectDecider, [b.added, b.taskAdded(b.todo, 1, 0, taskId)]);
    const before = JSON.parse(JSON.stringify(state)) as ProjectState;
    const events = [
      msg('TaskAdded', { ...(b.taskAdded(b.todo, 2, 1).data as object) }),
      msg('TaskMoved', {
        projectId: b.projectId,
        taskId,
        fromColumnId: b.todo,
        fromIndex: 0,
        toColumnId: b.done,
        index: 0,
      }),
      msg('TaskModified', { projectId: b.projectId, taskId, changes: { title: 'New' } }),
      msg('ProjectModified', {
        projectId: b.projectId,
        changes: { columnOrder: [b.done, b.review, b.doing, b.todo] },
      }),
    ] as ProjectEvent[];
    for (const event of events) projectDecider.evolve(state, event);
    expect(state).toEqual(before);
  });
});
