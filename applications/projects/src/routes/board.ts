import { Router } from 'express';
import { z } from 'zod';
import { fields, LIMITS, projectCommands } from '@devpie/client-events';
import { parseInput, principalOf } from '@devpie/http-kit';
import { answer, atLeastOne, content, pathId, projectToWrite, title, type RouteDeps } from './shared';

export const columnBody = z.object({ title }).strict();
export const taskBody = z
  .object({ title, content: content.optional(), assigneeId: fields.id.nullable().optional() })
  .strict();
export const taskPatch = z
  .object({ title, content, assigneeId: fields.id.nullable() })
  .partial()
  .strict()
  .refine(atLeastOne, 'at least one of title, content, assigneeId');
export const moveBody = z
  .object({ toColumnId: fields.id, index: z.number().int().min(0).max(LIMITS.tasks) })
  .strict();

/**
 * Columns and tasks of a board. Whether a column or task exists is the component's decision (on
 * the events), not the view's: a task created a moment ago and not yet in the view can be changed,
 * and one just destroyed is refused with a reason (`TaskNotFound`, `ColumnNotFound`, …).
 */
export function boardRoutes({ views, gateway }: RouteDeps): Router {
  const router = Router();
  const base = (projectId: string) => `/api/v1/projects/${projectId}`;

  router.post('/projects/:projectId/columns', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const body = parseInput(columnBody, req.body);
    let columnId = '';
    const sent = await gateway.send(req, res, projectCommands, 'AddColumn', userId, ({ newId }) => {
      columnId = newId('column');
      return { projectId, columnId, title: body.title };
    });
    await answer(res, views, sent, {
      projectId,
      id: columnId,
      access,
      created: `${base(projectId)}/columns/${columnId}`,
    });
  });

  router.patch('/projects/:projectId/columns/:columnId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const columnId = pathId(req, 'columnId', 'column');
    const body = parseInput(columnBody, req.body);
    const sent = await gateway.send(req, res, projectCommands, 'ModifyColumn', userId, () => ({
      projectId,
      columnId,
      title: body.title,
    }));
    await answer(res, views, sent, { projectId, id: columnId, access });
  });

  router.delete('/projects/:projectId/columns/:columnId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const columnId = pathId(req, 'columnId', 'column');
    const sent = await gateway.send(req, res, projectCommands, 'DestroyColumn', userId, () => ({
      projectId,
      columnId,
    }));
    await answer(res, views, sent, { projectId, id: columnId, access });
  });

  router.post('/projects/:projectId/columns/:columnId/tasks', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const columnId = pathId(req, 'columnId', 'column');
    const body = parseInput(taskBody, req.body);
    let taskId = '';
    const sent = await gateway.send(req, res, projectCommands, 'AddTask', userId, ({ newId }) => {
      taskId = newId('task');
      return {
        projectId,
        columnId,
        taskId,
        title: body.title,
        content: body.content ?? '',
        assigneeId: body.assigneeId ?? null,
      };
    });
    await answer(res, views, sent, {
      projectId,
      id: taskId,
      access,
      created: `${base(projectId)}/tasks/${taskId}`,
    });
  });

  router.patch('/projects/:projectId/tasks/:taskId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const taskId = pathId(req, 'taskId', 'task');
    const changes = parseInput(taskPatch, req.body);
    const sent = await gateway.send(req, res, projectCommands, 'ModifyTask', userId, () => ({
      projectId,
      taskId,
      changes,
    }));
    await answer(res, views, sent, { projectId, id: taskId, access });
  });

  router.patch('/projects/:projectId/tasks/:taskId/move', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const taskId = pathId(req, 'taskId', 'task');
    const body = parseInput(moveBody, req.body);
    const sent = await gateway.send(req, res, projectCommands, 'MoveTask', userId, () => ({
      projectId,
      taskId,
      toColumnId: body.toColumnId,
      index: body.index,
    }));
    await answer(res, views, sent, { projectId, id: taskId, access });
  });

  router.delete('/projects/:projectId/tasks/:taskId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const taskId = pathId(req, 'taskId', 'task');
    const sent = await gateway.send(req, res, projectCommands, 'DestroyTask', userId, () => ({
      projectId,
      taskId,
    }));
    await answer(res, views, sent, { projectId, id: taskId, access });
  });

  return router;
}
