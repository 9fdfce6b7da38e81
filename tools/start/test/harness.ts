/** Drives `npm start`, `npm run seed` and the devpie CLI as processes, the way a newcomer runs them. */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { portFree } from '../src/net';
import { services } from '../src/services';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** A temporary directory PostgreSQL (running as `postgres` when we are root) can reach. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'devpie-start-'));
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A PORT_OFFSET whose nine ports are all free (tests share the machine). */
export async function freeOffset(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const offset = 20_000 + 100 * Math.floor(Math.random() * 200);
    const ports = services(offset).map((s) => s.port);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return offset;
  }
  throw new Error('no free port range');
}

export async function freePort(): Promise<number> {
  for (;;) {
    const p = 30_000 + Math.floor(Math.random() * 10_000);
    if (await portFree(p)) return p;
  }
}

export interface Launched {
  output: string[];
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM to the process group (as Ctrl-C would send SIGINT), then waits for "stopped". */
  stop(): Promise<void>;
}

/** `npm --prefix <repo> start` from `cwd`: the data goes to `<cwd>/.data`. */
export function launch(cwd: string, env: NodeJS.ProcessEnv): Launched {
  const child = spawn('npm', ['--prefix', ROOT, 'start'], {
    cwd,
    env: { ...env, NO_COLOR: '1' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const t0 = Date.now();
  const take = (chunk: Buffer) => {
    const lines = chunk.toString('utf8').split('\n').filter(Boolean);
    if (process.env.DEBUG_START) for (const l of lines) console.log(`${Date.now() - t0} ${l}`);
    output.push(...lines);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = output.find((l) => pattern.test(l));
        if (line !== undefined) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-60).join('\n')}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return {
    output,
    waitFor,
    async stop() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      try {
        await waitFor(/devpie\s+│ stopped/, 45_000);
      } catch (err) {
        process.kill(-child.pid!, 'SIGKILL');
        throw err;
      }
    },
  };
}

/** Runs a command to completion; resolves with its exit code and output. */
export function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

export const seedCommand = (env: NodeJS.ProcessEnv, cwd: string) =>
  exec('npm', ['--prefix', ROOT, 'run', 'seed'], env, cwd);
export const devpie = (args: string[], env: NodeJS.ProcessEnv) =>
  exec(process.execPath, [path.join(ROOT, 'tools/cli/bin/devpie.mjs'), ...args], env);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function api(url: string, opts: { method?: string; token?: string; body?: unknown } = {}) {
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.method && opts.method !== 'GET' ? { prefer: 'wait=10' } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

/** What the seed made, read back over HTTP as the demo user sees it (volatile fields left out). */
export async function readBack(offset: number) {
  const base = (port: number) => `http://localhost:${port + offset}/api/v1`;
  const signin = await api(`${base(4000)}/auth/signin`, {
    method: 'POST',
    body: { email: 'demo@example.com', password: 'Kanban-Board-2026!' },
  });
  if (signin.status !== 200) throw new Error(`sign-in: ${signin.status} ${JSON.stringify(signin.body)}`);
  const token = String(signin.body.token);
  const teams = (await api(`${base(4000)}/teams`, { token })).body.items as Json[];
  const list = (await api(`${base(4020)}/projects?sort=name`, { token })).body.items as Json[];
  const projects = [];
  for (const p of list) {
    const board = (await api(`${base(4020)}/projects/${p.id}`, { token })).body;
    const estimate = await api(`${base(4040)}/estimates/projects/${p.id}`, { token });
    projects.push({
      id: board.id,
      name: board.name,
      description: board.description,
      teamId: board.teamId,
      columns: (board.columns as Json[]).map((c) => ({
        title: c.title,
        tasks: (c.tasks as Json[]).map((t) => t.title),
      })),
      estimate:
        estimate.status === 200
          ? { totals: estimate.body.totals, cost: estimate.body.cost, lines: estimate.body.lines.length }
          : estimate.status,
    });
  }
  return { token, userId: signin.body.user.id as string, teams: teams.map((t) => t.name), projects };
}
