import { createPool } from '../src';
import { TEST_DATABASE_URL } from '../src/testing';

test('an idle pooled connection that PostgreSQL drops (a restart) does not crash the process; the pool reconnects', async () => {
  const pool = createPool(TEST_DATABASE_URL, 2);
  const admin = createPool(TEST_DATABASE_URL, 1);
  try {
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    client.release(); // idle in the pool, as most connections are when the server goes away
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', record);
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      process.off('uncaughtException', record);
    }
    expect(uncaught).toEqual([]);
    await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  } finally {
    await pool.end();
    await admin.end();
  }
});
