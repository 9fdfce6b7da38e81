import { unreachable, type ProjectEvent } from '@devpie/client-events';

/**
 * A column lists its tasks' ids in board order, and that is all the decider keeps of a task:
 * whether it exists, in which column and where. A task's title, content, key and assignee are the
 * views' business; keeping them held every task's text in the component's cache for no decision
 * (10 of the bench process's 92 MB live heap after its pipeline, marked again by every major GC).
 * Tasks live in their column rather than in a record by id: evolve then copies one array per
 * change (microseconds) instead of spreading a record of up to LIMITS.tasks keys (milliseconds),
 * and the state stays plain JSON for snapshots. `findTask` is the lookup by id.
 */
export interface Column {
  readonly id: string;
  readonly title: string;
  readonly tasks: readonly string[];
}

export interface InitialProject {
  readonly status: 'initial';
}

export interface ActiveProject {
  readonly status: 'active';
  readonly id: string;
  readonly ownerId: string;
  readonly teamId: string | null;
  readonly name: string;
  readonly description: string;
  readonly prefix: string;
  readonly public: boolean;
  /** The owner's archive switch (ProjectModified.changes.active); unrelated to `status`. */
  readonly active: boolean;
  readonly columns: readonly Column[];
  /** Number of the next task. It only grows, so a destroyed task's key is never given again. */
  readonly nextNumber: number;
}

export interface DestroyedProject {
  readonly status: 'destroyed';
  readonly id: string;
}

export type ProjectState = InitialProject | ActiveProject | DestroyedProject;

export const initialState = (): ProjectState => ({ status: 'initial' });

export interface TaskLocation {
  readonly column: Column;
  /** Position of the task in its column. */
  readonly index: number;
}

export function findTask(project: ActiveProject, taskId: string): TaskLocation | undefined {
  for (const column of project.columns) {
    const index = column.tasks.indexOf(taskId);
    if (index >= 0) return { column, index };
  }
  return undefined;
}

export const findColumn = (project: ActiveProject, columnId: string): Column | undefined =>
  project.columns.find((c) => c.id === columnId);

export const taskCount = (project: ActiveProject): number =>
  project.columns.reduce((n, c) => n + c.tasks.length, 0);

type ChangeEvent = Exclude<ProjectEvent, { type: 'ProjectAdded' | 'CommandRejected' }>;

export function evolve(state: ProjectState, event: ProjectEvent): ProjectState {
  switch (event.type) {
    case 'ProjectAdded': {
      const { projectId, ownerId, teamId, name, description, prefix, columns } = event.data;
      return {
        status: 'active',
        id: projectId,
        ownerId,
        teamId,
        name,
        description,
        prefix,
        public: event.data.public,
        active: true,
        columns: columns.map((c) => ({ id: c.columnId, title: c.title, tasks: [] })),
        nextNumber: 1,
      };
    }
    case 'CommandRejected':
      return state;
    default:
      return state.status === 'active' ? evolveActive(state, event) : state;
  }
}

function evolveActive(project: ActiveProject, event: ChangeEvent): ProjectState {
  switch (event.type) {
    case 'ProjectModified': {
      const { name, description, active, columnOrder } = event.data.changes;
      return {
        ...project,
        name: name ?? project.name,
        description: description ?? project.description,
        active: active ?? project.active,
        public: event.data.changes.public ?? project.public,
        columns: columnOrder ? reorder(project.columns, columnOrder) : project.columns,
      };
    }
    case 'ProjectDestroyed':
      return { status: 'destroyed', id: project.id };
    case 'ColumnAdded': {
      const { columnId, title } = event.data;
      return { ...project, columns: [...project.columns, { id: columnId, title, tasks: [] }] };
    }
    case 'ColumnModified': {
      const { columnId, title } = event.data;
      return { ...project, columns: updateColumn(project.columns, columnId, (c) => ({ ...c, title })) };
    }
    case 'ColumnDestroyed':
      return { ...project, columns: project.columns.filter((c) => c.id !== event.data.columnId) };
    case 'TaskAdded': {
      const { taskId, columnId, number, index } = event.data;
      return {
        ...project,
        nextNumber: Math.max(project.nextNumber, number + 1),
        columns: updateColumn(project.columns, columnId, (c) => ({
          ...c,
          tasks: insertAt(c.tasks, index, taskId),
        })),
      };
    }
    case 'TaskModified':
      // nothing a decision reads: title, content and assignee are the views'
      return project;
    case 'TaskMoved': {
      const { taskId, toColumnId, index } = event.data;
      const found = findTask(project, taskId);
      if (!found) return project;
      const columns = updateColumn(project.columns, found.column.id, (c) => ({
        ...c,
        tasks: c.tasks.filter((_, i) => i !== found.index),
      }));
      return {
        ...project,
        columns: updateColumn(columns, toColumnId, (c) => ({
          ...c,
          tasks: insertAt(c.tasks, index, taskId),
        })),
      };
    }
    case 'TaskDestroyed': {
      const { taskId, columnId } = event.data;
      return {
        ...project,
        columns: updateColumn(project.columns, columnId, (c) => ({
          ...c,
          tasks: c.tasks.filter((id) => id !== taskId),
        })),
      };
    }
    default:
      return unreachable(event);
  }
}

function updateColumn(columns: readonly Column[], columnId: string, update: (c: Column) => Column): Column[] {
  return columns.map((c) => (c.id === columnId ? update(c) : c));
}

function insertAt<T>(items: readonly T[], index: number, item: T): T[] {
  return [...items.slice(0, index), item, ...items.slice(index)];
}

function reorder(columns: readonly Column[], order: readonly string[]): Column[] {
  const byId = new Map(columns.map((c) => [c.id, c]));
  return order.flatMap((id) => byId.get(id) ?? []);
}
