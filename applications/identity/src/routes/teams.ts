import { Router, type Request } from 'express';
import { z } from 'zod';
import { fields, teamCommands, UUID_PATTERN } from '@devpie/client-events';
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
import type { IdentityViews } from '../views';

export const teamBody = z.object({ name: fields.name }).strict();
export const memberBody = z.object({ email: fields.email, role: fields.role }).strict();
export const rolePatch = z.object({ role: fields.role }).strict();

export interface TeamDeps {
  views: IdentityViews;
  gateway: CommandGateway;
}

/** `/teams` and `/teams/:teamId/memberships`. Only administrators manage memberships. */
export function teamRoutes({ views, gateway }: TeamDeps): Router {
  const router = Router();

  /** The caller's membership of the team; a team they are not in does not exist for them. */
  async function myMembership(req: Request, userId: string) {
    const teamId = String(req.params.teamId);
    const mine = UUID_PATTERN.test(teamId) ? await views.membershipOf(teamId, userId) : undefined;
    if (!mine) throw notFound('No such team');
    return mine;
  }
  async function asAdministrator(req: Request, userId: string) {
    const mine = await myMembership(req, userId);
    if (mine.role !== 'administrator') throw forbidden('Only administrators manage memberships');
    return mine;
  }
  async function targetMembership(req: Request, teamId: string) {
    const id = String(req.params.membershipId);
    const m = UUID_PATTERN.test(id) ? await views.membership(id) : undefined;
    if (!m || m.teamId !== teamId) throw notFound('No such membership');
    return m;
  }
  const rejected = (sent: Sent) => {
    if (sent.outcome?.status === 'rejected') throw rejectionProblem(sent.outcome);
  };

  router.post('/teams', async (req, res) => {
    const { name } = parseInput(teamBody, req.body);
    const { userId } = principalOf(res.locals);
    let teamId = '';
    const sent = await gateway.send(req, res, teamCommands, 'AddTeam', userId, ({ newId }) => {
      teamId = newId('team');
      return { teamId, name, membershipId: newId('membership') };
    });
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId, id: teamId });
    rejected(sent);
    const team = (await views.teamsOf(userId)).find((t) => t.id === teamId);
    res.status(201).location(`/api/v1/teams/${teamId}`).json(team);
  });

  router.get('/teams', async (_req, res) => {
    res.json({ items: await views.teamsOf(principalOf(res.locals).userId) });
  });

  router.get('/teams/:teamId/memberships', async (req, res) => {
    const mine = await myMembership(req, principalOf(res.locals).userId);
    res.json({ items: await views.members(mine.teamId) });
  });

  router.post('/teams/:teamId/memberships', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { teamId } = await asAdministrator(req, userId);
    const body = parseInput(memberBody, req.body);
    const member = await views.userByEmail(body.email);
    if (!member) {
      throw new HttpProblem(422, 'Unknown user', 'No user has this email address', {
        errors: [{ path: 'body.email', message: 'no user with this address' }],
        reason: 'NotFound',
      });
    }
    let membershipId = '';
    const sent = await gateway.send(req, res, teamCommands, 'AddMembership', userId, ({ newId }) => {
      membershipId = newId('membership');
      return { teamId, membershipId, userId: member.id, role: body.role };
    });
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId, id: membershipId });
    rejected(sent);
    const created = (await views.members(teamId)).find((m) => m.id === membershipId);
    res.status(201).location(`/api/v1/teams/${teamId}/memberships/${membershipId}`).json(created);
  });

  router.patch('/teams/:teamId/memberships/:membershipId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { teamId } = await asAdministrator(req, userId);
    const target = await targetMembership(req, teamId);
    const { role } = parseInput(rolePatch, req.body);
    const sent = await gateway.send(req, res, teamCommands, 'ModifyMembership', userId, () => ({
      teamId,
      membershipId: target.id,
      role,
    }));
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId, id: target.id });
    rejected(sent);
    res.json((await views.members(teamId)).find((m) => m.id === target.id));
  });

  router.delete('/teams/:teamId/memberships/:membershipId', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { teamId } = await asAdministrator(req, userId);
    const target = await targetMembership(req, teamId);
    const sent = await gateway.send(req, res, teamCommands, 'DestroyMembership', userId, () => ({
      teamId,
      membershipId: target.id,
    }));
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId, id: target.id });
    rejected(sent);
    res.status(204).end();
  });

  return router;
}
