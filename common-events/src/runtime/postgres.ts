import { Pool, type PoolClient } from 'pg';

export type { Pool, PoolClient };

/**
 * A pool that survives the server going away: an idle connection that breaks (PostgreSQL
 * restarted, a backend terminated) makes the pool emit `error`, which with no listener would end
 * the process. pg has already dropped that client; the next query opens a new connection, and a
 * query that was running fails to its caller as usual.
 */
export function createPool(
  connectionString: string,
  max = 10,
  onIdleError: (err: Error) => void = () => undefined,
): Pool {
  const pool = new Pool({ connectionString, max, application_name: 'devpie' });
  pool.on('error', onIdleError);
  return pool;
}

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
