import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive, isLoopback, natsAddress, reachable, waitFor } from './net';

export interface NatsServer {
  url: string;
  /** How the launcher got it: `given` (NATS_URL, running), `started` here, or `adopted` from an earlier run. */
  origin: 'given' | 'started' | 'adopted';
  storeDir?: string;
  /** Stops the server if this launcher owns it (started or adopted); a no-op otherwise. */
  stop(): Promise<void>;
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

function findNatsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function owned(pid: number, storeDir: string, url: string): NatsServer {
  return {
    url,
    origin: 'adopted',
    storeDir,
    async stop() {
      if (!alive(pid)) return;
      process.kill(pid, 'SIGTERM');
      if (!(await waitFor(async () => !alive(pid), 10_000))) process.kill(pid, 'SIGKILL');
    },
  };
}

/**
 * The environment of a nats-server started here. On a machine of two CPUs or fewer, shared with
 * PostgreSQL and the services, it runs with GOMAXPROCS=1 unless GOMAXPROCS is set: with a second
 * processor the Go runtime spins looking for work between messages. Measured on a 2-CPU machine
 * (bench, in-process, alternating runs): nats-server's CPU 15-19 % lower at 1,000 commands/s and
 * in the pipeline, whose throughput rose 3.5 %; it needs well under one CPU at the system's peak.
 */
export function natsServerEnv(env: NodeJS.ProcessEnv, cpus: number): NodeJS.ProcessEnv {
  return cpus <= 2 && !env.GOMAXPROCS ? { ...env, GOMAXPROCS: '1' } : env;
}

/**
 * NATS for the system: the one at NATS_URL when it answers; otherwise, when that address is on
 * this machine (the default is nats://127.0.0.1:4222), a `nats-server -js` started here with its
 * store under `<dataDir>/nats`. A server an earlier launcher started and left running (the
 * launcher was killed) is adopted through its pid file and stopped at the end like one started here.
 */
export async function ensureNats(
  natsUrl: string | undefined,
  dataDir: string,
  log: (line: string) => void,
): Promise<NatsServer> {
  const url = natsUrl || DEFAULT_NATS_URL;
  const { host, port } = natsAddress(url);
  const storeDir = path.join(dataDir, 'nats');
  const pidFile = path.join(storeDir, 'nats-server.pid');
  const remembered = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;

  if (await reachable(host, port)) {
    if (remembered && alive(remembered) && cmdline(remembered).includes(storeDir)) {
      return { ...owned(remembered, storeDir, url), origin: 'adopted' };
    }
    return { url, origin: 'given', stop: async () => undefined };
  }
  if (!isLoopback(host)) {
    throw new Error(`NATS_URL ${url} does not answer, and it is not on this machine: nothing to start`);
  }
  const bin = findNatsServer();
  if (!bin) {
    throw new Error(
      `nothing answers at ${url} and nats-server is not installed (apt-get install nats-server, or set NATS_URL)`,
    );
  }
  mkdirSync(storeDir, { recursive: true });
  const logFile = path.join(storeDir, 'nats-server.log');
  const listen = host === 'localhost' ? '127.0.0.1' : host;
  const env = natsServerEnv(process.env, os.availableParallelism());
  const procs = env.GOMAXPROCS ? `, GOMAXPROCS=${env.GOMAXPROCS}` : '';
  log(`starting ${bin} -js on ${listen}:${port} (store ${storeDir}, log ${logFile}${procs})`);
  // its own process group: a Ctrl-C in the terminal reaches the services, which drain first;
  // the launcher stops NATS after them
  const child = spawn(
    bin,
    ['-a', listen, '-p', String(port), '-js', '-sd', storeDir, '-P', pidFile, '-l', logFile],
    { detached: true, stdio: 'ignore', env },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  const up = await waitFor(async () => exited || (await reachable(host, port)), 15_000);
  if (!up || exited) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-5).join('\n') : '';
    throw new Error(`nats-server did not start on ${listen}:${port}\n${tail}`);
  }
  child.unref();
  const pid = child.pid!;
  return { ...owned(pid, storeDir, url), origin: 'started' };
}
