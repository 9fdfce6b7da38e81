import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_COLUMNS, fields, LIMITS, projectCommands } from '@devpie/client-events';
import {
  badRequest,
  forbidden,
  HttpProblem,
  parseInput,
  principalOf,
  rejectionProblem,
} from '@devpie/http-kit';
import { accessOf, canWrite, type Access } from '../access';
import { defaultPrefix } from '../prefix';
import type { Cursor } from '../views';
import {
  answer,
  atLeastOne,
  description,
  prefix,
  projectToRead,
  projectToWrite,
  toProject,
  type RouteDeps,
} from './shared';

export const newProject = z
  .object({
    name: fields.name,
    description: description.optional(),
    teamId: fields.id.nullable().optional(),
    prefix: prefix.optional(),
    public: z.boolean().optional(),
  })
  .strict();

export const projectPatch = z
  .object({
    name: fields.name,
    description,
    active: z.boolean(),
    public: z.boolean(),
    columnOrder: z.array(fields.id).min(1).max(LIMITS.columns),
  })
  .partial()
  .strict()
  .refine(atLeastOne, 'at least one of name, description, active, public, columnOrder');

const listQuery = z
  .object({
    sort: z.enum(['name', 'updated']).default('updated'),
    active: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    cursor: z.string().max(1024).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

const cursorSchema = z.object({ s: z.enum(['name', 'updated']), k: z.string(), i: fields.id }).strict();

const encodeCursor = (c: Cursor) =>
  Buffer.from(JSON.stringify({ s: c.sort, k: c.key, i: c.id })).toString('base64url');

function decodeCursor(text: string, sort: Cursor['sort']): Cursor {
  let parsed: z.infer<typeof cursorSchema> | undefined;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.s !== sort) {
    throw badRequest('The query is not valid', [
      { path: 'query.cursor', message: `not a cursor of this list (sort=${sort})` },
    ]);
  }
  return { sort: parsed.s, key: parsed.k, id: parsed.i };
}

/** `/projects` and `/projects/:projectId`. */
export function projectRoutes({ views, gateway }: RouteDeps): Router {
  const router = Router();

  router.get('/projects', async (req, res) => {
    const q = parseInput(listQuery, req.query, 'query');
    const { userId } = principalOf(res.locals);
    const page = await views.list(userId, {
      sort: q.sort,
      active: q.active,
      limit: q.limit,
      after: q.cursor ? decodeCursor(q.cursor, q.sort) : undefined,
    });
    res.json({
      items: page.items.map(({ project, role }) => ({ ...project, role: accessOf(project, userId, role) })),
      nextCursor: page.next ? encodeCursor(page.next) : null,
    });
  });

  router.post('/projects', async (req, res) => {
    const body = parseInput(newProject, req.body);
    const { userId } = principalOf(res.locals);
    let access: Access = 'owner';
    if (body.teamId) {
      const member = await views.member(body.teamId, userId);
      if (!member) {
        throw new HttpProblem(422, 'Unknown team', 'You are not a member of this team', {
          errors: [{ path: 'body.teamId', message: 'not a team you belong to' }],
          reason: 'NotFound',
        });
      }
      if (!canWrite(member.role)) throw forbidden(`A team ${member.role} may not add projects to it`);
      access = member.role;
    }
    let projectId = '';
    const sent = await gateway.send(req, res, projectCommands, 'AddProject', userId, ({ newId }) => {
      projectId = newId('project');
      return {
        projectId,
        name: body.name,
        description: body.description ?? '',
        teamId: body.teamId ?? null,
        prefix: body.prefix ?? defaultPrefix(body.name),
        public: body.public ?? false,
        columns: DEFAULT_COLUMNS.map((title, i) => ({ columnId: newId(`column:${i}`), title })),
      };
    });
    await answer(res, views, sent, {
      projectId,
      id: projectId,
      access,
      created: `/api/v1/projects/${projectId}`,
    });
  });

  router.get('/projects/:projectId', async (req, res) => {
    const { project, access } = await projectToRead(views, req, principalOf(res.locals).userId);
    res.json(toProject(project, access));
  });

  router.patch('/projects/:projectId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, access } = await projectToWrite(views, req, userId);
    const changes = parseInput(projectPatch, req.body);
    const sent = await gateway.send(req, res, projectCommands, 'ModifyProject', userId, () => ({
      projectId,
      changes,
    }));
    await answer(res, views, sent, { projectId, id: projectId, access });
  });

  router.delete('/projects/:projectId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId } = await projectToWrite(views, req, userId);
    const sent = await gateway.send(req, res, projectCommands, 'DestroyProject', userId, () => ({
      projectId,
    }));
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId, id: projectId });
    if (sent.outcome.status === 'rejected') throw rejectionProblem(sent.outcome);
    res.status(204).end();
  });

  return router;
}
