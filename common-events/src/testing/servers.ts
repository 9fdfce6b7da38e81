import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { Names } from '../names';
import { connectMessaging, deleteStreams, ensureStreams, type Messaging } from '../runtime/messaging';
import { createPool, ident } from '../runtime/postgres';

export const TEST_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestEnv {
  names: Names;
  messaging: Messaging;
  pool: Pool;
  /** Another connection in the same namespace (a second replica, a crashing process). */
  connect(name?: string): Promise<Messaging>;
  close(): Promise<void>;
}

/**
 * A private namespace on the machine's real NATS and Postgres: its own streams, durables and
 * schemas, removed at the end. Parallel test files never see each other.
 */
export async function openTestEnv(opts: { duplicateWindowMs?: number } = {}): Promise<TestEnv> {
  const names = new Names(`t${randomBytes(5).toString('hex')}`);
  const opened: Messaging[] = [];
  const connect = async (name = 'test') => {
    const m = await connectMessaging({ servers: TEST_NATS_URL, name, names });
    opened.push(m);
    return m;
  };
  const messaging = await connect();
  await ensureStreams(messaging, { replicas: 1, duplicateWindowMs: opts.duplicateWindowMs });
  const pool = createPool(TEST_DATABASE_URL, 5);
  return {
    names,
    messaging,
    pool,
    connect,
    async close() {
      await deleteStreams(messaging);
      const { rows } = await pool.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`,
        [`${names.namespace}\\_%`],
      );
      for (const r of rows) await pool.query(`DROP SCHEMA ${ident(r.nspname)} CASCADE`);
      await pool.end();
      for (const m of opened) if (!m.nc.isClosed()) await m.nc.close();
    },
  };
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
