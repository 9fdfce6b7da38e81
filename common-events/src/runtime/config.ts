import { z } from 'zod';
import { ConfigError } from '../errors';

/**
 * Reads configuration from environment variables through a zod schema whose keys are the
 * variable names. A missing or wrong value stops the service with a message naming the variable.
 */
export function readConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration — ${problems.join('; ')}`);
}

/** The variables every service reads. */
export const baseConfig = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/postgres'),
  /** Prefix for streams, subjects, durables and schemas; empty in production. */
  NAMESPACE: z
    .string()
    .regex(/^([a-z][a-z0-9_]{0,30})?$/, 'lower-case letters, digits and _')
    .default(''),
  STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type BaseConfig = z.output<typeof baseConfig>;

/** `OPS_PORT`: where a component or aggregator serves /healthz, /readyz and /metrics. */
export const opsPort = (defaultPort: number) =>
  z.coerce.number().int().min(1).max(65535).default(defaultPort);
