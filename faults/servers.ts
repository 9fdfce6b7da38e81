import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, openSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';

/** A TCP port nothing listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function reachable(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A nats-server of the suite's own (JetStream, file store in a temporary directory), so that
 * restarting it never disturbs the machine's shared server. `restart` keeps the port and store.
 */
export class PrivateNats {
  private child?: ChildProcess;
  readonly url: string;
  restarts = 0;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly logFile: string,
    private readonly binary: string,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  static async start(dir: string, binary = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server') {
    const storeDir = path.join(dir, 'nats');
    mkdirSync(storeDir, { recursive: true });
    const nats = new PrivateNats(await freePort(), storeDir, path.join(dir, 'nats.log'), binary);
    await nats.up();
    return nats;
  }

  private async up(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    this.child = spawn(
      this.binary,
      ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir],
      {
        stdio: ['ignore', log, log],
      },
    );
    await waitUntil(() => reachable(this.port), 10_000, `nats-server on port ${this.port}`);
  }

  /** Stops the server (SIGTERM: a clean shutdown; SIGKILL: a crash) and starts it again after `downMs`. */
  async restart(signal: 'SIGTERM' | 'SIGKILL', downMs: number): Promise<void> {
    await this.stop(signal);
    await sleep(downMs);
    await this.up();
    this.restarts++;
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited(child);
    clearTimeout(timer);
  }
}

/**
 * A PostgreSQL 15 cluster of the suite's own (initdb in a temporary directory, trust auth, on a
 * free port), so that restarting it never disturbs the tests that share the machine's server.
 * PostgreSQL refuses to run as root: started by root, initdb and the server run as the OS user
 * `postgres` (Debian's package creates it), which owns the directory.
 */
export class PrivatePostgres {
  readonly url: string;
  restarts = 0;
  private readonly data: string;
  private readonly runAs?: { uid: number; gid: number };

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
  ) {
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    this.data = path.join(dir, 'data');
    if (process.getuid?.() === 0) {
      const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
      this.runAs = { uid: id('-u'), gid: id('-g') };
      if (!Number.isInteger(this.runAs.uid) || this.runAs.uid === 0)
        throw new Error('running as root needs the OS user "postgres" to start a private PostgreSQL');
    }
  }

  static async start(dir: string, bin = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin') {
    const root = path.join(dir, 'postgres');
    mkdirSync(root, { recursive: true });
    const pg = new PrivatePostgres(await freePort(), root, bin);
    if (pg.runAs) {
      chmodSync(dir, 0o711); // mkdtemp's 0700 would keep the server out of its own directory
      chownSync(root, pg.runAs.uid, pg.runAs.gid);
    }
    pg.run('initdb', ['-D', pg.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await pg.up();
    return pg;
  }

  private run(tool: string, args: string[]): void {
    const r = spawnSync(path.join(this.bin, tool), args, {
      encoding: 'utf8',
      cwd: this.dir,
      ...(this.runAs ?? {}),
    });
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr || r.stdout || r.error}`);
  }

  private async up(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=300',
      '-c fsync=off',
    ].join(' ');
    this.run('pg_ctl', [
      '-D',
      this.data,
      '-o',
      options,
      '-l',
      path.join(this.dir, 'server.log'),
      '-w',
      'start',
    ]);
    await waitUntil(() => reachable(this.port), 10_000, `PostgreSQL on port ${this.port}`);
  }

  /**
   * Stops the server and starts it again after `downMs`: `immediate` is a crash (every backend
   * killed, recovery from the WAL on start), `fast` a clean shutdown that disconnects every client.
   */
  async restart(mode: 'immediate' | 'fast', downMs: number): Promise<void> {
    this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', 'stop']);
    await sleep(downMs);
    await this.up();
    this.restarts++;
  }

  async stop(): Promise<void> {
    try {
      this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not running
    }
  }
}
