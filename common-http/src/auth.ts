import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { RequestHandler } from 'express';
import jwt, { type JwtHeader } from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import { unauthorized } from './problem';

export interface TokenSettings {
  issuer: string;
  audience: string;
}

/** Where verification keys come from: an identity provider's JWKS (Auth0, ours) or keys in hand. */
export type KeySource = { jwksUri: string } | { keys: KeyObject[] };

/** RFC 7638 thumbprint: a stable `kid` for a public key. */
export function keyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' }) as { e: string; kty: string; n: string };
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function jwksDocument(publicKeys: KeyObject[]) {
  return {
    keys: publicKeys.map((k) => ({
      ...(k.export({ format: 'jwk' }) as object),
      kid: keyId(k),
      alg: 'RS256',
      use: 'sig',
    })),
  };
}

export interface Principal {
  userId: string;
}

/** Verifies RS256 bearer tokens: signature against the key source, issuer, audience and expiry. */
export function createTokenVerifier(settings: TokenSettings, source: KeySource) {
  const local = 'keys' in source ? new Map(source.keys.map((k) => [keyId(k), k])) : undefined;
  const remote =
    'jwksUri' in source ? jwksRsa({ jwksUri: source.jwksUri, cache: true, rateLimit: true }) : undefined;

  const getKey = (header: JwtHeader, done: (err: Error | null, key?: string | KeyObject) => void) => {
    if (local) {
      const key = header.kid ? local.get(header.kid) : undefined;
      return key ? done(null, key) : done(new Error('unknown signing key'));
    }
    remote!
      .getSigningKey(header.kid)
      .then((k) => done(null, createPublicKey(k.getPublicKey())))
      .catch((err: Error) => done(err));
  };

  return (token: string): Promise<Principal> =>
    new Promise((resolve, reject) => {
      jwt.verify(
        token,
        getKey,
        { algorithms: ['RS256'], issuer: settings.issuer, audience: settings.audience, clockTolerance: 5 },
        (err, payload) => {
          if (err || typeof payload !== 'object' || typeof payload.sub !== 'string') {
            return reject(err ?? new Error('token has no subject'));
          }
          resolve({ userId: payload.sub });
        },
      );
    });
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

/** Requires `Authorization: Bearer <jwt>`; puts the principal in `res.locals.principal`. */
export function authenticate(verify: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_\-.=]+)$/.exec(header);
    if (!match) return next(unauthorized());
    try {
      res.locals.principal = await verify(match[1]!);
      next();
    } catch (err) {
      req.log?.info({ reason: (err as Error).message }, 'token refused');
      next(unauthorized('The bearer token is not valid'));
    }
  };
}

export const principalOf = (locals: Record<string, unknown>): Principal => locals.principal as Principal;
