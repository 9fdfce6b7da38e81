/**
 * `npm start`: the whole system on one machine — the nine services as child processes, their logs
 * prefixed by service name. NATS and PostgreSQL are the ones given (NATS_URL, DATABASE_URL); when
 * nothing answers at a local NATS_URL a `nats-server -js` is started, and without DATABASE_URL an
 * embedded PostgreSQL; both keep their data under `./.data`, so it survives a restart.
 *
 * `SERVICE=<name> npm start` runs one service in the foreground instead (what a container runs).
 *
 * Variables besides the services' own: DEVPIE_DATA_DIR (default ./.data, relative to where npm
 * was run), PORT_OFFSET (added to every default port), EMBEDDED_PG_PORT, READY_TIMEOUT_MS,
 * SHUTDOWN_GRACE_MS, LOG_FORMAT=json (the services' pino lines as they are).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SERVICE_NODE_FLAGS } from '@devpie/client-events/runtime/node-flags';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { formatLine, pipeLines, type LogOptions } from './logs';
import { DEFAULT_NATS_URL, ensureNats, type NatsServer } from './nats';
import { portFree } from './net';
import { ensurePostgres, type PostgresServer } from './postgres';
import { childEnv, exists, probed, serviceNames, services, type Service, type Wiring } from './services';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const env = process.env;
const dataDir = path.resolve(env.DEVPIE_DATA_DIR ?? path.join(env.INIT_CWD ?? process.cwd(), '.data'));
const portOffset = Number(env.PORT_OFFSET ?? 0);
const graceMs = Number(env.SHUTDOWN_GRACE_MS ?? 30_000);
const logOpts: LogOptions = {
  format: env.LOG_FORMAT === 'json' ? 'json' : 'pretty',
  color: Boolean(process.stdout.isTTY) && !env.NO_COLOR,
  write: (line) => process.stdout.write(`${line}\n`),
};
const say = (line: string) => logOpts.write(formatLine('devpie', line, logOpts));
const rel = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
};
const startedAt = Date.now();

function node(s: Service, childEnvironment: NodeJS.ProcessEnv, stdio: 'inherit' | 'pipe'): ChildProcess {
  return spawn(process.execPath, [...SERVICE_NODE_FLAGS, '--import', 'tsx', s.main], {
    cwd: ROOT,
    env: childEnvironment,
    stdio: ['ignore', stdio, stdio],
  });
}

/** One service, restarted with back-off if it exits while the system runs. */
function supervise(s: Service, childEnvironment: NodeJS.ProcessEnv) {
  let child: ChildProcess | undefined;
  let stopping = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  const launch = () => {
    const startedAt = Date.now();
    const c = node(s, childEnvironment, 'pipe');
    child = c;
    pipeLines(s.name, c.stdout, logOpts);
    pipeLines(s.name, c.stderr, logOpts);
    c.once('exit', (code, signal) => {
      if (stopping) return;
      attempt = Date.now() - startedAt > 30_000 ? 1 : attempt + 1;
      const delay = Math.min(15_000, 500 * 2 ** (attempt - 1));
      say(`${s.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      timer = setTimeout(launch, delay);
    });
  };
  return {
    service: s,
    start: launch,
    async stop(): Promise<void> {
      stopping = true;
      clearTimeout(timer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => {
          say(`${s.name} did not stop within ${graceMs} ms; killing it`);
          c.kill('SIGKILL');
        }, graceMs);
        c.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill('SIGTERM');
      });
    },
  };
}

async function readyz(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

function banner(running: Service[], notReady: Service[], nats: NatsServer, pg: PostgresServer): void {
  const apps = running.filter((s) => s.kind === 'app');
  const ops = running.filter((s) => s.kind !== 'app' && probed(ROOT, s));
  const silent = running.filter((s) => s.kind !== 'app' && !probed(ROOT, s));
  const took = `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
  const lines = [
    notReady.length === 0
      ? `devpie is up: ${running.length} services in ${took}`
      : `devpie is up: ${running.length} services in ${took}, not ready yet: ${notReady.map((s) => s.name).join(', ')}`,
    ...apps.map((s) => `  ${s.context.padEnd(11)} http://localhost:${s.port}/api/v1`),
    `  ops         ${ops.map((s) => `${s.name} :${s.port}`).join(', ')} (/healthz /readyz /metrics)`,
    ...(silent.length > 0 ? [`  no ops port ${silent.map((s) => s.name).join(', ')}`] : []),
    `  NATS        ${nats.url}${
      nats.origin === 'given' ? '' : ` (${nats.origin} by this launcher, store ${rel(nats.storeDir!)})`
    }`,
    `  PostgreSQL  ${pg.url.replace(/:[^:@/]+@/, ':***@')}${
      pg.origin === 'given' ? '' : ` (${pg.origin}, data ${rel(pg.dataDir!)})`
    }`,
    `  namespace   ${env.NAMESPACE || '(none)'}; data in ${rel(dataDir)}`,
    `  demo data:  ${portOffset ? `PORT_OFFSET=${portOffset} ` : ''}npm run seed        operate: npx devpie status`,
  ];
  if (nats.url !== DEFAULT_NATS_URL || pg.origin !== 'given' || env.NAMESPACE) {
    lines.push(
      `  for the CLI: export NATS_URL='${nats.url}' DATABASE_URL='${pg.url}'${
        env.NAMESPACE ? ` NAMESPACE=${env.NAMESPACE}` : ''
      }`,
    );
  }
  lines.push(
    `Stop with Ctrl-C (or kill -TERM ${process.pid}): the services drain, then the servers started here stop.`,
  );
  for (const l of lines) say(l);
}

async function runAll(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const all = services(portOffset);
  const present = all.filter((s) => exists(ROOT, s));
  for (const s of all.filter((x) => !present.includes(x)))
    say(`${s.name}: ${s.main} does not exist yet; skipped`);
  for (const s of present) {
    if (!(await portFree(s.port))) {
      throw new Error(
        `port ${s.port} (${s.name}) is in use: is devpie already running? Stop it, or move every port with PORT_OFFSET=100`,
      );
    }
  }

  let nats: NatsServer | undefined;
  let pg: PostgresServer | undefined;
  let supervised: ReturnType<typeof supervise>[] = [];
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the services`);
    await Promise.all(supervised.map((s) => s.stop()));
    if (pg && pg.origin !== 'given') say('stopping PostgreSQL');
    await pg?.stop();
    if (nats && nats.origin !== 'given') say('stopping NATS');
    await nats?.stop();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));

  try {
    nats = await ensureNats(env.NATS_URL, dataDir, (l) => logOpts.write(formatLine('nats', l, logOpts)));
    if (stopping) return;
    pg = await ensurePostgres(env.DATABASE_URL, dataDir, (l) =>
      logOpts.write(formatLine('postgres', l, logOpts)),
    );
  } catch (err) {
    await pg?.stop();
    await nats?.stop();
    throw err;
  }
  if (stopping) return;

  const wiring: Wiring = {
    natsUrl: nats.url,
    databaseUrl: pg.url,
    dataDir,
    identityPort: all.find((s) => s.name === 'identity-app')!.port,
  };
  supervised = present.map((s) => supervise(s, childEnv(s, wiring, env)));
  for (const s of supervised) s.start();

  const timeoutMs = Number(env.READY_TIMEOUT_MS ?? 120_000);
  const deadline = Date.now() + timeoutMs;
  let waiting = present.filter((s) => probed(ROOT, s));
  while (waiting.length > 0 && Date.now() < deadline && !stopping) {
    const states = await Promise.all(waiting.map((s) => readyz(s.port)));
    waiting = waiting.filter((_, i) => !states[i]);
    if (waiting.length > 0) await new Promise((r) => setTimeout(r, 200));
  }
  if (!stopping) banner(present, waiting, nats, pg);
}

/** `SERVICE=<name>`: that service alone, in the foreground, with the environment as given. */
async function runOne(name: string): Promise<void> {
  const s = services(portOffset).find((x) => x.name === name);
  if (!s) {
    throw new Error(`SERVICE=${name} is not a service; one of: ${serviceNames().join(', ')}`);
  }
  if (!exists(ROOT, s)) throw new Error(`${s.main} does not exist yet`);
  const wiring: Wiring = {
    natsUrl: env.NATS_URL || DEFAULT_NATS_URL,
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    dataDir,
    identityPort: 4000 + portOffset,
  };
  const e = childEnv(s, wiring, env);
  // a port given to this one service wins over the table
  if (env.PORT && s.kind === 'app') e.PORT = env.PORT;
  if (env.OPS_PORT && s.kind !== 'app') e.OPS_PORT = env.OPS_PORT;
  const child = node(s, e, 'inherit');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

(env.SERVICE ? runOne(env.SERVICE) : runAll()).catch((err: unknown) => {
  say(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
