import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePortFrom, portFree } from './net';

export interface PostgresServer {
  url: string;
  origin: 'given' | 'embedded' | 'adopted';
  dataDir?: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL for the system: DATABASE_URL when it is set; otherwise the embedded server (see
 * embedded-postgres.ts) with its data under `<dataDir>/postgres`, on EMBEDDED_PG_PORT, else 5432
 * when free, else the next free port.
 */
export async function ensurePostgres(
  databaseUrl: string | undefined,
  dataDir: string,
  log: (line: string) => void,
): Promise<PostgresServer> {
  if (databaseUrl) return { url: databaseUrl, origin: 'given', stop: async () => undefined };
  const dir = path.join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  const wanted = process.env.EMBEDDED_PG_PORT ? Number(process.env.EMBEDDED_PG_PORT) : undefined;
  const port = wanted ?? ((await portFree(5432)) ? 5432 : await freePortFrom(5433));
  const child = fork(path.join(__dirname, 'embedded-postgres.ts'), [], {
    execArgv: ['--import', 'tsx'],
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, PG_DATA_DIR: dir, PG_PORT: String(port) },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; adopted: boolean }>((resolve, reject) => {
    child.on(
      'message',
      (m: { ready?: true; url: string; adopted: boolean; error?: string; log?: string }) => {
        if (m.log !== undefined) log(m.log);
        else if (m.error) reject(new Error(m.error));
        else if (m.ready) resolve({ url: m.url, adopted: m.adopted });
      },
    );
    void exited.then(() => reject(new Error('the embedded PostgreSQL process ended before it was ready')));
  });
  let stopping = false;
  void exited.then(() => {
    if (!stopping) log(`the embedded PostgreSQL process ended (code ${child.exitCode ?? child.signalCode})`);
  });
  return {
    url: ready.url,
    origin: ready.adopted ? 'adopted' : 'embedded',
    dataDir: dir,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
