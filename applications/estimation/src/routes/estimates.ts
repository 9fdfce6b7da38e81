import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { currency, estimateCommands, hours, UUID_PATTERN } from '@devpie/client-events';
import {
  forbidden,
  HttpProblem,
  notFound,
  parseInput,
  principalOf,
  rejectionProblem,
  type CommandGateway,
  type Sent,
} from '@devpie/http-kit';
import { accessOf, canWrite, type Access } from '../access';
import { toMinorUnits } from '../money';
import { toEstimate, toHistoryItem } from '../representation';
import type { EstimationViews, WriteTarget } from '../views';

/**
 * `PUT …/rate`: `hourlyRate` in major units, as a decimal string (`"95.50"`) or a JSON number
 * (`95.5`), converted exactly to the currency's minor units; `currency` an ISO 4217 code.
 */
export const rateBody = z
  .object({
    hourlyRate: z.union([z.string().max(40), z.number()]),
    currency: z.string().trim().toUpperCase().pipe(currency),
  })
  .strict()
  .transform((body, ctx) => {
    const minor = toMinorUnits(body.hourlyRate, body.currency);
    if (typeof minor === 'number') return { hourlyRate: minor, currency: body.currency };
    ctx.addIssue({ code: 'custom', path: ['hourlyRate'], message: minor.error });
    return z.NEVER;
  });

/** `PUT …/tasks/:taskId`: hours, each 0–10000 with at most two decimals, optimistic ≤ likely ≤ pessimistic. */
export const estimateBody = z
  .object({ optimistic: hours, likely: hours, pessimistic: hours })
  .strict()
  .superRefine((e, ctx) => {
    if (e.likely < e.optimistic) {
      ctx.addIssue({ code: 'custom', path: ['likely'], message: 'must not be less than optimistic' });
    }
    if (e.pessimistic < e.likely) {
      ctx.addIssue({ code: 'custom', path: ['pessimistic'], message: 'must not be less than likely' });
    }
  });

export interface EstimateRouteDeps {
  views: EstimationViews;
  gateway: CommandGateway;
  /** How long a write waits for Estimation to catch up with what the view shows from Projects (ms). */
  catchUpWaitMs?: number;
}

/**
 * Whether Estimation's own events have caught up with what the view shows from Projects' events:
 * the estimate opened and, for a task that has a line, the task registered. (Projects' ProjectAdded
 * and TaskAdded reach the view a moment before the reactor's OpenEstimate and RegisterTask are
 * decided; a write sent in between would be refused.)
 */
function caughtUp(target: WriteTarget): boolean {
  if (target.archived) return true;
  if (!target.opened) return false;
  return !target.line || target.line.registered;
}

/** A path parameter, lower-cased, if it is a UUID. */
function uuidParam(req: Request, param: string): string | undefined {
  const id = String(req.params[param]);
  return UUID_PATTERN.test(id) ? id.toLowerCase() : undefined;
}

/** A path id that is not a UUID names nothing. */
function pathId(req: Request, param: string, what: string): string {
  const id = uuidParam(req, param);
  if (id === undefined) throw notFound(`No such ${what}`);
  return id;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `/estimates/projects/:projectId` and its rate, task estimates and history. */
export function estimateRoutes({ views, gateway, catchUpWaitMs = 2000 }: EstimateRouteDeps): Router {
  const router = Router();

  /** The estimate the request names, if the caller may see it: one they may not read does not exist for them (404). */
  async function estimateAccess(req: Request, userId: string) {
    const projectId = pathId(req, 'projectId', 'project');
    const found = await views.estimateFor(projectId, userId);
    const access = found && accessOf(found.estimate, userId, found.role);
    if (!found || !access) throw notFound('No such project');
    return { estimate: found.estimate, access };
  }

  /**
   * The estimate a write names, without its lines but with the line of `taskId`: 404 as for a
   * read, 403 for a user who may read it but not change it.
   */
  async function writeTarget(req: Request, userId: string, taskId?: string) {
    const projectId = pathId(req, 'projectId', 'project');
    const target = await views.writeTarget(projectId, userId, taskId);
    const access = target && accessOf(target, userId, target.role);
    if (!target || !access) throw notFound('No such project');
    if (!canWrite(access)) throw forbidden(`A team ${access} may read this estimate, not change it`);
    return { projectId, target, access };
  }

  /**
   * Before a write: the estimate once Estimation has caught up with it (see `caughtUp`), waiting
   * briefly when it has not. Only a wait for consistency: the component still decides the command.
   */
  async function settled(projectId: string, userId: string, target: WriteTarget, taskId?: string) {
    const deadline = Date.now() + catchUpWaitMs;
    let current = target;
    while (!caughtUp(current) && Date.now() < deadline) {
      await sleep(25);
      current = (await views.writeTarget(projectId, userId, taskId)) ?? current;
    }
    return current;
  }

  /** `202 {commandId, id}` unless the client waited; then the rejection, or the estimate as the view shows it. */
  async function answer(res: Response, sent: Sent, projectId: string, access: Access) {
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId, id: projectId });
    if (sent.outcome.status === 'rejected') throw rejectionProblem(sent.outcome);
    const doc = await views.estimate(projectId);
    if (!doc) return res.status(202).json({ commandId: sent.commandId, id: projectId });
    res.json(toEstimate(doc, access));
  }

  router.get('/estimates/projects/:projectId', async (req, res) => {
    const { estimate, access } = await estimateAccess(req, principalOf(res.locals).userId);
    res.json(toEstimate(estimate, access));
  });

  router.get('/estimates/projects/:projectId/history', async (req, res) => {
    const { estimate } = await estimateAccess(req, principalOf(res.locals).userId);
    const rows = await views.historyOf(estimate.projectId);
    res.json({ items: rows.map((r) => toHistoryItem(r, estimate)) });
  });

  router.put('/estimates/projects/:projectId/rate', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { projectId, target, access } = await writeTarget(req, userId);
    const body = parseInput(rateBody, req.body);
    await settled(projectId, userId, target);
    const sent = await gateway.send(req, res, estimateCommands, 'SetRate', userId, () => ({
      projectId,
      hourlyRate: body.hourlyRate,
      currency: body.currency,
    }));
    await answer(res, sent, projectId, access);
  });

  router.put('/estimates/projects/:projectId/tasks/:taskId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    // the task's line is read with the estimate; a task id that is not a UUID is refused after the access check
    const { projectId, target, access } = await writeTarget(req, userId, uuidParam(req, 'taskId'));
    const taskId = pathId(req, 'taskId', 'task');
    const body = parseInput(estimateBody, req.body);
    const current = await settled(projectId, userId, target, taskId);
    if (!current.line) {
      throw new HttpProblem(404, 'Not Found', 'The project has no such task', {
        errors: [{ path: 'params.taskId', message: 'not a task of this project' }],
        reason: 'TaskNotFound',
      });
    }
    const { optimistic, likely, pessimistic } = body;
    const sent = await gateway.send(req, res, estimateCommands, 'EstimateTask', userId, () => ({
      projectId,
      taskId,
      estimate: { optimistic, likely, pessimistic },
    }));
    await answer(res, sent, projectId, access);
  });

  return router;
}
