import { z } from 'zod';
import { baseConfig, readConfig } from '@devpie/client-events';

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

export const identityConfigSchema = baseConfig.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(4000),
  JWT_ISSUER: z.url().default('http://localhost:4000/'),
  JWT_AUDIENCE: z.string().min(1).default('https://api.devpie.local'),
  /** PEM of the RS256 private key (from a Secret). Without it, JWT_PRIVATE_KEY_FILE is used or created. */
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_PRIVATE_KEY_FILE: z.string().default('.data/jwt/private.pem'),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  CORS_ORIGINS: list.default(['http://localhost:3000']),
  /** scrypt cost parameter N (a power of two); lower only for tests. */
  SCRYPT_N: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 ** 20)
    .default(2 ** 15),
  SIGNIN_LIMIT_PER_CLIENT: z.coerce.number().int().min(1).default(30),
  SIGNIN_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1).default(10),
});
export type IdentityConfig = z.output<typeof identityConfigSchema>;

export const loadIdentityConfig = (env: NodeJS.ProcessEnv = process.env) =>
  readConfig(identityConfigSchema, env);
