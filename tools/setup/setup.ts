import { JetStreamApiError } from '@nats-io/jetstream';
import {
  ensureStreams,
  streamDefinitions,
  ViewStore,
  type Messaging,
  type Names,
  type Pool,
  type Projection,
} from '@devpie/client-events';
import { estimationProjection } from '@devpie/estimation-aggregator';
import { identityProjection } from '@devpie/identity-aggregator';
import { projectsProjection } from '@devpie/projects-aggregator';

/** The views of every aggregator: their schemas are created before any service starts. */
export const PROJECTIONS: readonly Projection[] = [
  identityProjection,
  projectsProjection,
  estimationProjection,
];

/** Creates (or updates) the streams with `replicas` and every aggregator's view schema. Idempotent. */
export async function setUp(messaging: Messaging, pool: Pool, replicas: number): Promise<void> {
  await ensureStreams(messaging, { replicas });
  for (const projection of PROJECTIONS) {
    await new ViewStore(messaging.names.schema(projection.schema), projection).migrate(pool);
  }
}

/** What is still missing before the services may start (empty when the setup job has run). */
export async function missing(messaging: Messaging, pool: Pool): Promise<string[]> {
  const names: Names = messaging.names;
  const out: string[] = [];
  for (const def of streamDefinitions(names, { replicas: 1 })) {
    try {
      await messaging.jsm.streams.info(def.name!);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.status === 404) out.push(`stream ${def.name}`);
      else throw err;
    }
  }
  const schemas = PROJECTIONS.map((p) => names.schema(p.schema));
  const { rows } = await pool.query<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])',
    [schemas],
  );
  const present = new Set(rows.map((r) => r.nspname));
  for (const s of schemas) if (!present.has(s)) out.push(`view schema ${s}`);
  return out;
}
