import { Router } from 'express';
import { z } from 'zod';
import { fields, userCommands } from '@devpie/client-events';
import { notFound, parseInput, principalOf, rejectionProblem, type CommandGateway } from '@devpie/http-kit';
import type { UserDoc } from '@devpie/identity-aggregator';
import type { IdentityViews } from '../views';

export const toUser = (u: UserDoc) => ({
  id: u.id,
  email: u.email,
  firstName: u.firstName,
  lastName: u.lastName,
  locale: u.locale,
  picture: u.picture,
  createdAt: u.createdAt,
  updatedAt: u.updatedAt,
});

export const profilePatch = z
  .object({
    firstName: fields.name,
    lastName: fields.name,
    picture: fields.url.nullable(),
    locale: fields.locale,
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'at least one of firstName, lastName, picture, locale');

/** `GET|PATCH /users/me`. */
export function userRoutes({ views, gateway }: { views: IdentityViews; gateway: CommandGateway }): Router {
  const router = Router();
  router.get('/users/me', async (_req, res) => {
    const user = await views.user(principalOf(res.locals).userId);
    if (!user) throw notFound('Your profile is not there yet');
    res.json(toUser(user));
  });
  router.patch('/users/me', async (req, res) => {
    const changes = parseInput(profilePatch, req.body);
    const { userId } = principalOf(res.locals);
    const sent = await gateway.send(req, res, userCommands, 'ModifyUser', userId, () => ({
      userId,
      changes,
    }));
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId, id: userId });
    if (sent.outcome.status === 'rejected') throw rejectionProblem(sent.outcome);
    res.json(toUser((await views.user(userId))!));
  });
  return router;
}
