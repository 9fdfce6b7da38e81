import { z } from 'zod';
import { baseConfig, readConfig } from '@devpie/client-events';

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

export const estimationConfigSchema = baseConfig.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(4040),
  /** Tokens are Identity's: the same issuer and audience, verified against its JWKS. */
  JWT_ISSUER: z.url().default('http://localhost:4000/'),
  JWT_AUDIENCE: z.string().min(1).default('https://api.devpie.local'),
  JWKS_URL: z.url().default('http://localhost:4000/.well-known/jwks.json'),
  CORS_ORIGINS: list.default(['http://localhost:3000']),
  /** Longest `Prefer: wait` honoured, in seconds. */
  MAX_WAIT_SECONDS: z.coerce.number().int().min(1).max(120).default(30),
});
export type EstimationConfig = z.output<typeof estimationConfigSchema>;

export const loadEstimationConfig = (env: NodeJS.ProcessEnv = process.env) =>
  readConfig(estimationConfigSchema, env);
