import { z } from 'zod';
import { eventSet, messageSet, type MessageOf } from '../registry';
import { id, name, text } from './fields';

export const LIMITS = { title: 200, description: 2000, content: 10000, columns: 50, tasks: 5000 } as const;
export const DEFAULT_COLUMNS = ['To Do', 'In Progress', 'Review', 'Done'] as const;

const title = text().trim().min(1).max(LIMITS.title);
const description = text().trim().max(LIMITS.description);
const content = text().max(LIMITS.content);
const prefix = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{0,9}$/, 'one to ten capitals or digits, starting with a capital');
/** The free-text fields' rules, which the Projects app's HTTP bodies use as they are. */
export const PROJECT_TEXT = { title, description, content } as const;
const index = z.number().int().min(0).max(LIMITS.tasks);
const column = z.object({ columnId: id, title }).strict();

const projectChanges = z
  .object({
    name,
    description,
    active: z.boolean(),
    public: z.boolean(),
    columnOrder: z.array(id).min(1).max(LIMITS.columns),
  })
  .partial()
  .strict()
  .refine((c) => Object.keys(c).length > 0, 'at least one field to change');
const taskChanges = z
  .object({ title, content, assigneeId: id.nullable() })
  .partial()
  .strict()
  .refine((c) => Object.keys(c).length > 0, 'at least one field to change');

export const projectCommands = messageSet('projects', 'command', 'projectId', {
  /** The requester (metadata.userId) owns it; `columns` are the initial columns (Devpie's defaults). */
  AddProject: z
    .object({
      projectId: id,
      name,
      description: description.default(''),
      teamId: id.nullable().default(null),
      prefix,
      public: z.boolean().default(false),
      columns: z.array(column).max(LIMITS.columns),
    })
    .strict(),
  ModifyProject: z.object({ projectId: id, changes: projectChanges }).strict(),
  DestroyProject: z.object({ projectId: id }).strict(),
  AddColumn: z.object({ projectId: id, columnId: id, title }).strict(),
  ModifyColumn: z.object({ projectId: id, columnId: id, title }).strict(),
  DestroyColumn: z.object({ projectId: id, columnId: id }).strict(),
  AddTask: z
    .object({
      projectId: id,
      columnId: id,
      taskId: id,
      title,
      content: content.default(''),
      assigneeId: id.nullable().default(null),
    })
    .strict(),
  ModifyTask: z.object({ projectId: id, taskId: id, changes: taskChanges }).strict(),
  MoveTask: z.object({ projectId: id, taskId: id, toColumnId: id, index }).strict(),
  DestroyTask: z.object({ projectId: id, taskId: id }).strict(),
});

export const projectEvents = eventSet('projects', 'projectId', {
  ProjectAdded: z
    .object({
      projectId: id,
      ownerId: id,
      teamId: id.nullable(),
      name,
      description,
      prefix,
      public: z.boolean(),
      columns: z.array(column),
    })
    .strict(),
  ProjectModified: z.object({ projectId: id, changes: projectChanges }).strict(),
  ProjectDestroyed: z.object({ projectId: id }).strict(),
  ColumnAdded: z.object({ projectId: id, columnId: id, title }).strict(),
  ColumnModified: z.object({ projectId: id, columnId: id, title }).strict(),
  ColumnDestroyed: z.object({ projectId: id, columnId: id }).strict(),
  /** `key` is `<prefix>-<number>`, numbered by the component and never reused. */
  TaskAdded: z
    .object({
      projectId: id,
      columnId: id,
      taskId: id,
      key: z.string().max(24),
      number: z.number().int().positive(),
      title,
      content,
      assigneeId: id.nullable(),
      index,
    })
    .strict(),
  TaskModified: z.object({ projectId: id, taskId: id, changes: taskChanges }).strict(),
  TaskMoved: z
    .object({ projectId: id, taskId: id, fromColumnId: id, fromIndex: index, toColumnId: id, index })
    .strict(),
  TaskDestroyed: z.object({ projectId: id, taskId: id, columnId: id }).strict(),
});

export type ProjectCommand = MessageOf<typeof projectCommands.schemas>;
export type ProjectEvent = MessageOf<typeof projectEvents.schemas>;
