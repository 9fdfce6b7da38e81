import type { Request, Response } from 'express';
import { z } from 'zod';
import { PROJECT_TEXT, UUID_PATTERN } from '@devpie/client-events';
import { forbidden, notFound, rejectionProblem, type CommandGateway, type Sent } from '@devpie/http-kit';
import type { ProjectDoc } from '@devpie/projects-aggregator';
import { accessOf, canWrite, type Access } from '../access';
import type { ProjectsViews } from '../views';

/** Field rules of the HTTP bodies: the contract's own (common-events/src/contexts/projects.ts). */
export const { title, description, content } = PROJECT_TEXT;
export const prefix = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z][A-Z0-9]{0,9}$/, 'one to ten capitals or digits, starting with a capital');

export const atLeastOne = (b: object) => Object.keys(b).length > 0;

export interface RouteDeps {
  views: ProjectsViews;
  gateway: CommandGateway;
}

/** The board as the client gets it, with what the caller may do with it. */
export const toProject = (doc: ProjectDoc, role: Access) => ({ ...doc, role });

/** A path id that is not a UUID names nothing. */
export function pathId(req: Request, param: string, what: string): string {
  const id = String(req.params[param]);
  if (!UUID_PATTERN.test(id)) throw notFound(`No such ${what}`);
  return id.toLowerCase();
}

/**
 * The project the request names, if the caller may see it: a project they may not read does not
 * exist for them (404).
 */
export async function projectToRead(
  views: ProjectsViews,
  req: Request,
  userId: string,
): Promise<{ project: ProjectDoc; access: Access }> {
  const projectId = pathId(req, 'projectId', 'project');
  const found = await views.projectFor(projectId, userId);
  const access = found && accessOf(found.project, userId, found.role);
  if (!found || !access) throw notFound('No such project');
  return { project: found.project, access };
}

/**
 * The project the request names, if the caller may change it: 404 as for a read, 403 for one they
 * may read but not change. Only the board's row is read (its tasks are not needed to decide this).
 */
export async function projectToWrite(
  views: ProjectsViews,
  req: Request,
  userId: string,
): Promise<{ projectId: string; access: Access }> {
  const projectId = pathId(req, 'projectId', 'project');
  const found = await views.ownershipFor(projectId, userId);
  const access = found && accessOf(found, userId, found.role);
  if (!found || !access) throw notFound('No such project');
  if (!canWrite(access)) throw forbidden(`A team ${access} may read this project, not change it`);
  return { projectId, access };
}

/**
 * How a write answers: `202 {commandId, id}` unless the client waited; then the rejection as
 * problem details, or the project as the view now shows it (`201` and the new resource's
 * `Location` for a create).
 */
export async function answer(
  res: Response,
  views: ProjectsViews,
  sent: Sent,
  opts: { projectId: string; id: string; access: Access; created?: string },
): Promise<void> {
  if (!sent.outcome) {
    res.status(202).json({ commandId: sent.commandId, id: opts.id });
    return;
  }
  if (sent.outcome.status === 'rejected') throw rejectionProblem(sent.outcome);
  const doc = await views.project(opts.projectId);
  if (!doc) {
    res.status(202).json({ commandId: sent.commandId, id: opts.id });
    return;
  }
  if (opts.created) res.status(201).location(opts.created);
  res.json(toProject(doc, opts.access));
}
