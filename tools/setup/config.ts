import { z } from 'zod';
import { baseConfig, readConfig } from '@devpie/client-events';

/** The setup job's variables: the base ones plus how long it keeps retrying while NATS/Postgres come up. */
export const setupConfigSchema = baseConfig.extend({
  SETUP_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
});
export type SetupConfig = z.output<typeof setupConfigSchema>;

export const loadSetupConfig = (env: NodeJS.ProcessEnv = process.env) => readConfig(setupConfigSchema, env);
