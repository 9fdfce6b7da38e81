/** The pipeline's command mix: users, teams, projects, tasks, moves, renames, rates and estimates. */
import {
  DEFAULT_COLUMNS,
  envelope,
  estimateCommands,
  newId,
  projectCommands,
  teamCommands,
  userCommands,
  type AnyMessageSet,
  type Envelope,
} from '@devpie/client-events';
import { random } from './ceilings';

/** A scrypt-shaped hash (the contract's regex); the bench never signs in. */
const PASSWORD_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g=';
export const CONTENT = 'Steps to reproduce, acceptance criteria and notes. '.repeat(4).slice(0, 200);

interface Board {
  id: string;
  ownerId: string;
  columns: { columnId: string; tasks: string[] }[];
  /** Tasks with the index of the command that added them (estimates wait a little behind). */
  added: { taskId: string; at: number }[];
}

export interface Generated {
  set: AnyMessageSet;
  command: Envelope;
}

/**
 * A realistic mix, valid by construction against a local model of the boards: users sign up
 * (AddUser), create teams (AddTeam), add projects (AddProject with the default columns), add,
 * move and modify tasks, set rates and estimate tasks. Estimates name tasks added ≥ 500 commands
 * earlier: the Estimation reactor must have registered them first, or the command is rejected
 * (TaskNotFound), which is still one recorded outcome, and is counted.
 */
export function commandMix(seed: number) {
  const rnd = random(seed);
  const users: string[] = [];
  const boards: Board[] = [];
  let n = 0;
  let taskNumber = 0;
  const byType: Record<string, number> = {};

  const addUser = (): Generated => {
    const userId = newId();
    users.push(userId);
    return {
      set: userCommands,
      command: envelope(
        'AddUser',
        {
          userId,
          email: `bench-${userId}@example.com`,
          passwordHash: PASSWORD_HASH,
          firstName: 'Bench',
          lastName: `User ${users.length}`,
        },
        { userId: null },
      ),
    };
  };
  const someUser = () => users[rnd.int(users.length)]!;
  const addProject = (): Generated => {
    const ownerId = someUser();
    const board: Board = {
      id: newId(),
      ownerId,
      columns: DEFAULT_COLUMNS.map(() => ({ columnId: newId(), tasks: [] })),
      added: [],
    };
    boards.push(board);
    return {
      set: projectCommands,
      command: envelope(
        'AddProject',
        {
          projectId: board.id,
          name: `Board ${boards.length}`,
          description: 'A kanban board of the benchmark',
          teamId: null,
          prefix: `B${boards.length}`,
          public: false,
          columns: board.columns.map((c, i) => ({ columnId: c.columnId, title: DEFAULT_COLUMNS[i]! })),
        },
        { userId: ownerId },
      ),
    };
  };
  const addTask = (b: Board): Generated => {
    const column = b.columns[rnd.int(b.columns.length)]!;
    const taskId = newId();
    column.tasks.push(taskId);
    b.added.push({ taskId, at: n });
    return {
      set: projectCommands,
      command: envelope(
        'AddTask',
        {
          projectId: b.id,
          columnId: column.columnId,
          taskId,
          title: `Task ${++taskNumber}`,
          content: CONTENT,
          assigneeId: b.ownerId,
        },
        { userId: b.ownerId },
      ),
    };
  };

  /** A command on board `b`; `roll` in [0.1, 1) picks its type. */
  function onBoard(b: Board, roll: number): Generated {
    const tasks = b.added.length;
    const old = b.added.filter((t) => t.at <= n - 500);
    if (tasks === 0 || roll < 0.45) return addTask(b);
    if (roll < 0.7) {
      const nonEmpty = b.columns.filter((c) => c.tasks.length > 0);
      const from = nonEmpty[rnd.int(nonEmpty.length)]!;
      const fromIndex = rnd.int(from.tasks.length);
      const taskId = from.tasks.splice(fromIndex, 1)[0]!;
      const to = b.columns[rnd.int(b.columns.length)]!;
      const index = rnd.int(to.tasks.length + 1);
      to.tasks.splice(index, 0, taskId);
      return {
        set: projectCommands,
        command: envelope(
          'MoveTask',
          { projectId: b.id, taskId, toColumnId: to.columnId, index },
          {
            userId: b.ownerId,
          },
        ),
      };
    }
    if (roll < 0.82 || old.length === 0) {
      const { taskId } = b.added[rnd.int(tasks)]!;
      return {
        set: projectCommands,
        command: envelope(
          'ModifyTask',
          { projectId: b.id, taskId, changes: { title: `Renamed ${n}` } },
          { userId: b.ownerId },
        ),
      };
    }
    if (roll < 0.86) {
      return {
        set: estimateCommands,
        command: envelope(
          'SetRate',
          { projectId: b.id, hourlyRate: 9_000 + rnd.int(100) * 100, currency: 'EUR' },
          {
            userId: b.ownerId,
          },
        ),
      };
    }
    const { taskId } = old[rnd.int(old.length)]!;
    const likely = 1 + rnd.int(16);
    return {
      set: estimateCommands,
      command: envelope(
        'EstimateTask',
        {
          projectId: b.id,
          taskId,
          estimate: { optimistic: likely / 2, likely, pessimistic: likely * 2 },
        },
        { userId: b.ownerId },
      ),
    };
  }

  /** Counts the command in the mix's tally and moves the mix on by one. */
  function counted(g: Generated): Generated {
    n++;
    byType[g.command.type] = (byType[g.command.type] ?? 0) + 1;
    return g;
  }

  function next(): Generated {
    const roll = rnd.next();
    if (users.length < 5 || roll < 0.04) return counted(addUser());
    if (roll < 0.06) {
      const userId = someUser();
      return counted({
        set: teamCommands,
        command: envelope(
          'AddTeam',
          { teamId: newId(), name: 'A bench team', membershipId: newId() },
          { userId },
        ),
      });
    }
    if (boards.length < 5 || roll < 0.1) return counted(addProject());
    return counted(onBoard(boards[rnd.int(boards.length)]!, roll));
  }

  /**
   * A population to start from (`users` sign-ups, then `boards` projects among them), so that the
   * mix that follows spreads over boards as a system in use does, instead of sending every
   * command to the first few boards it created.
   */
  function population(userCount: number, boardCount: number): Generated[] {
    const out: Generated[] = [];
    for (let i = 0; i < userCount; i++) out.push(addUser());
    for (let i = 0; i < boardCount; i++) out.push(addProject());
    return out;
  }

  /** The next command on the `index`-th board (the mix's share of task commands, rates and estimates). */
  function nextOnBoard(index: number): Generated {
    return counted(onBoard(boards[index]!, 0.1 + 0.9 * rnd.next()));
  }

  return { next, nextOnBoard, population, byType, boards: () => boards.length, tasks: () => taskNumber };
}

export type CommandMix = ReturnType<typeof commandMix>;
