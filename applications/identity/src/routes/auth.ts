import { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { fields, userCommands } from '@devpie/client-events';
import {
  HttpProblem,
  keyId,
  parseInput,
  rejectionProblem,
  unauthorized,
  type CommandGateway,
} from '@devpie/http-kit';
import type { IdentityConfig } from '../config';
import type { SigningKeys } from '../keys';
import { hashPassword, PASSWORD_MAX, passwordWeaknesses, verifyPassword } from '../passwords';
import type { IdentityViews } from '../views';
import { toUser } from './users';

export const signupBody = z
  .object({
    email: fields.email,
    password: z.string().min(1).max(PASSWORD_MAX),
    firstName: fields.name,
    lastName: fields.name,
    locale: fields.locale.optional(),
  })
  .strict();
export const signinBody = z
  .object({ email: fields.email, password: z.string().min(1).max(PASSWORD_MAX) })
  .strict();

export interface AuthDeps {
  config: IdentityConfig;
  keys: SigningKeys;
  views: IdentityViews;
  gateway: CommandGateway;
}

/** `/auth/signup` and `/auth/signin`: the only unauthenticated writes. */
export function authRoutes({ config, keys, views, gateway }: AuthDeps): Router {
  const router = Router();
  const kid = keyId(keys.publicKey);
  const issue = (userId: string) =>
    jwt.sign({}, keys.privateKey, {
      algorithm: 'RS256',
      keyid: kid,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      subject: userId,
      expiresIn: config.TOKEN_TTL_SECONDS,
    });
  const cost = { N: config.SCRYPT_N, r: 8, p: 1 };
  // a dummy hash so that an unknown address costs as much time as a wrong password
  const decoy = hashPassword('decoy-password-never-used', cost);
  const tooMany = (what: string) =>
    new HttpProblem(429, 'Too Many Requests', `Too many sign-in attempts ${what}; try again later`, {
      reason: 'RateLimited',
    });
  const perClient = rateLimit({
    windowMs: 60_000,
    limit: config.SIGNIN_LIMIT_PER_CLIENT,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(tooMany('from this client')),
  });
  const perAddress = rateLimit({
    windowMs: 15 * 60_000,
    limit: config.SIGNIN_LIMIT_PER_ADDRESS,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (req) =>
      `address:${String(req.body?.email ?? '')
        .trim()
        .toLowerCase()}`,
    skipSuccessfulRequests: true,
    handler: (_req, _res, next) => next(tooMany('for this address')),
  });

  router.post('/auth/signup', async (req, res) => {
    const body = parseInput(signupBody, req.body);
    const weak = passwordWeaknesses(body.password, [
      body.email.split('@')[0]!,
      body.firstName,
      body.lastName,
    ]);
    if (weak.length > 0) {
      throw new HttpProblem(400, 'Invalid request', `The password ${weak.join('; ')}`, {
        errors: weak.map((message) => ({ path: 'body.password', message })),
        reason: 'WeakPassword',
      });
    }
    const passwordHash = await hashPassword(body.password, cost);
    // sign-up always waits: the client needs the token, which needs the user
    req.headers.prefer = `wait=${Math.max(10, Number(/wait=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1] ?? 0))}`;
    const sent = await gateway.send(req, res, userCommands, 'AddUser', null, ({ newId }) => ({
      userId: newId('user'),
      email: body.email,
      passwordHash,
      firstName: body.firstName,
      lastName: body.lastName,
      ...(body.locale ? { locale: body.locale } : {}),
    }));
    if (!sent.outcome) return res.status(202).json({ commandId: sent.commandId });
    if (sent.outcome.status === 'rejected') throw rejectionProblem(sent.outcome);
    const user = await views.userByEmail(body.email);
    if (!user) return res.status(202).json({ commandId: sent.commandId });
    res
      .status(201)
      .location('/api/v1/users/me')
      .json({ token: issue(user.id), user: toUser(user) });
  });

  router.post('/auth/signin', perClient, perAddress, async (req, res) => {
    const body = parseInput(signinBody, req.body);
    const creds = await views.credentials(body.email);
    const ok = creds
      ? await verifyPassword(body.password, creds.passwordHash)
      : await verifyPassword(body.password, await decoy).then(() => false);
    if (!ok || !creds) throw unauthorized('The email address or password is not right');
    const user = await views.user(creds.userId);
    if (!user) throw unauthorized('The email address or password is not right');
    res.json({ token: issue(user.id), user: toUser(user) });
  });

  return router;
}
