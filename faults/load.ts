import { randomUUID } from 'node:crypto';
import { deterministicId } from '@devpie/client-events';
import type { Context } from './processes';
import { sleep } from './servers';
import type { System } from './system';

/** A command the system acknowledged (202, or 201 for a sign-up), and how to ask about it. */
export interface Acked {
  commandId: string;
  context: Context;
  op: string;
  /** The sender's token (GET /commands/:id answers only its sender); none for a sign-up. */
  token?: string;
}

export interface User {
  email: string;
  userId: string;
  token: string;
  projects: Project[];
}

export interface Project {
  id: string;
  owner: User;
  columns: string[];
  tasks: { id: string; at: number }[];
}

export interface LoadStats {
  /** Logical requests (each retried with its Idempotency-Key until it got an answer). */
  requests: number;
  /** HTTP attempts, including retries. */
  attempts: number;
  /** Attempts that failed in a way worth retrying, by cause (connection refused, 503, ...). */
  retried: Record<string, number>;
  /** Requests the apps refused (4xx, not acknowledged): status and reason. */
  refused: Record<string, number>;
  /** Requests still failing when their retry budget ran out. */
  gaveUp: number;
  acked: number;
  byOp: Record<string, number>;
}

const PASSWORD = 'Kanban-Board-2026!-Xq';
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const bump = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);

/**
 * The steady HTTP load: sign-ups, projects, tasks added, moved, renamed and destroyed, estimates and
 * rates, profile changes. Every write carries an Idempotency-Key and is retried with it until the
 * app answers (connection refused, 5xx and time-outs are retried), so a retry never doubles a
 * command; every 202/201 is recorded with its commandId for the checker.
 */
export class Load {
  readonly acked = new Map<string, Acked>();
  readonly stats: LoadStats = {
    requests: 0,
    attempts: 0,
    retried: {},
    refused: {},
    gaveUp: 0,
    acked: 0,
    byOp: {},
  };
  private inFlight = 0;

  constructor(
    private readonly sys: System,
    private readonly opts: { retryForMs?: number; log?: (line: string) => void } = {},
    /** Shared between the rounds of one system: who signs in, which boards exist. */
    readonly users: User[] = [],
  ) {}

  private async request(
    context: Context,
    method: string,
    path: string,
    body: unknown,
    token?: string,
  ): Promise<{ status: number; json: Record<string, unknown>; key: string } | undefined> {
    const key = randomUUID();
    const deadline = Date.now() + (this.opts.retryForMs ?? 90_000);
    this.stats.requests++;
    for (let attempt = 1; ; attempt++) {
      this.stats.attempts++;
      let cause: string;
      try {
        const res = await fetch(`${this.sys.api(context)}${path}`, {
          method,
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(20_000),
        });
        const text = await res.text();
        const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
        if (res.status < 500 && res.status !== 429) return { status: res.status, json, key };
        cause = `${context} ${res.status}`;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        cause = `${context} ${e.cause?.code ?? e.name}`;
      }
      bump(this.stats.retried, cause);
      if (Date.now() > deadline) {
        this.stats.gaveUp++;
        this.opts.log?.(`gave up ${method} ${path}: ${cause}`);
        return undefined;
      }
      await sleep(Math.min(1000, 50 * 2 ** Math.min(5, attempt)));
    }
  }

  /** A write: 202 {commandId} is recorded; a refusal is counted by status and reason. */
  private async write(
    op: string,
    context: Context,
    method: string,
    path: string,
    body: unknown,
    user: User,
  ): Promise<string | undefined> {
    const r = await this.request(context, method, path, body, user.token);
    if (!r) return undefined;
    if (r.status === 202 && typeof r.json.commandId === 'string') {
      this.record({ commandId: r.json.commandId, context, op, token: user.token });
      return typeof r.json.id === 'string' ? r.json.id : '';
    }
    bump(this.stats.refused, `${op} ${r.status} ${String(r.json.reason ?? r.json.title ?? '')}`.trim());
    return undefined;
  }

  private record(a: Acked) {
    if (this.acked.has(a.commandId)) return;
    this.acked.set(a.commandId, a);
    this.stats.acked++;
    bump(this.stats.byOp, a.op);
  }

  async signup(): Promise<User | undefined> {
    const n = randomUUID().slice(0, 12);
    const email = `fault-${n}@example.com`;
    const r = await this.request('identity', 'POST', '/auth/signup', {
      email,
      password: PASSWORD,
      firstName: 'Fault',
      lastName: `Suite ${n}`,
    });
    if (!r) return undefined;
    // sign-up answers 201 {token, user} (or 202 {commandId} when its wait ran out): the command id
    // is the one the gateway derives from the Idempotency-Key
    const commandId = deterministicId('idempotency:anonymous:POST /api/v1/auth/signup', r.key);
    if (r.status === 202 && r.json.commandId !== commandId)
      throw new Error(`sign-up command id ${String(r.json.commandId)} is not the derived ${commandId}`);
    if (r.status !== 201 && r.status !== 202) {
      bump(this.stats.refused, `signup ${r.status} ${String(r.json.reason ?? '')}`);
      return undefined;
    }
    this.record({ commandId, context: 'identity', op: 'signup' });
    if (r.status !== 201) return undefined;
    const user = r.json.user as { id: string };
    return { email, userId: user.id, token: String(r.json.token), projects: [] };
  }

  private async until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await get().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`setup: ${what} did not appear`);
      await sleep(100);
    }
  }

  private async get(
    context: Context,
    path: string,
    token: string,
  ): Promise<Record<string, unknown> | undefined> {
    const res = await fetch(`${this.sys.api(context)}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
  }

  private async newProject(user: User): Promise<Project | undefined> {
    const id = await this.write(
      'AddProject',
      'projects',
      'POST',
      '/projects',
      { name: `Board ${randomUUID().slice(0, 6)}` },
      user,
    );
    if (!id) return undefined;
    const doc = await this.until(`project ${id}`, () => this.get('projects', `/projects/${id}`, user.token));
    const project: Project = {
      id,
      owner: user,
      columns: (doc.columns as { id: string }[]).map((c) => c.id),
      tasks: [],
    };
    // the estimate opens when Estimation has reacted to ProjectAdded
    await this.until(`estimate ${id}`, async () => {
      const e = await this.get('estimation', `/estimates/projects/${id}`, user.token);
      return e ? true : undefined;
    });
    user.projects.push(project);
    return project;
  }

  /** Users, each with a team (the next user a member of it) and projects. */
  async setup(users: number, projectsPerUser: number): Promise<void> {
    const made = await Promise.all(Array.from({ length: users }, () => this.signup()));
    for (const u of made) if (u) this.users.push(u);
    if (this.users.length === 0)
      throw new Error(`setup: no user could sign up: ${JSON.stringify(this.stats)}`);
    await Promise.all(
      this.users.map(async (u, i) => {
        const teamId = await this.write('AddTeam', 'identity', 'POST', '/teams', { name: `Team ${i}` }, u);
        const next = this.users[(i + 1) % this.users.length]!;
        if (teamId && next !== u) {
          await this.until(`team ${teamId}`, () =>
            this.get('identity', `/teams/${teamId}/memberships`, u.token),
          );
          await this.write(
            'AddMembership',
            'identity',
            'POST',
            `/teams/${teamId}/memberships`,
            { email: next.email, role: 'editor' },
            u,
          );
        }
        for (let p = 0; p < projectsPerUser; p++) await this.newProject(u);
      }),
    );
  }

  private async op(): Promise<void> {
    const user = pick(this.users);
    const project = pick(user.projects);
    const base = `/projects/${project.id}`;
    const est = `/estimates/projects/${project.id}`;
    const r = Math.random();
    const aged = project.tasks.filter((t) => Date.now() - t.at > 1500);
    if (r < 0.3 || project.tasks.length === 0) {
      const id = await this.write(
        'AddTask',
        'projects',
        'POST',
        `${base}/columns/${pick(project.columns)}/tasks`,
        { title: `Task ${randomUUID().slice(0, 8)}` },
        user,
      );
      if (id) project.tasks.push({ id, at: Date.now() });
    } else if (r < 0.55) {
      const t = pick(project.tasks);
      await this.write(
        'MoveTask',
        'projects',
        'PATCH',
        `${base}/tasks/${t.id}/move`,
        { toColumnId: pick(project.columns), index: Math.floor(Math.random() * 3) },
        user,
      );
    } else if (r < 0.63) {
      const t = pick(project.tasks);
      await this.write(
        'ModifyTask',
        'projects',
        'PATCH',
        `${base}/tasks/${t.id}`,
        { title: `Renamed ${randomUUID().slice(0, 8)}` },
        user,
      );
    } else if (r < 0.83 && aged.length > 0) {
      const t = pick(aged);
      const o = Math.floor(Math.random() * 8);
      await this.write(
        'EstimateTask',
        'estimation',
        'PUT',
        `${est}/tasks/${t.id}`,
        { optimistic: o, likely: o + 2, pessimistic: o + 5 },
        user,
      );
    } else if (r < 0.87) {
      await this.write(
        'SetRate',
        'estimation',
        'PUT',
        `${est}/rate`,
        { hourlyRate: `${50 + Math.floor(Math.random() * 50)}.50`, currency: 'EUR' },
        user,
      );
    } else if (r < 0.92) {
      await this.write(
        'ModifyUser',
        'identity',
        'PATCH',
        '/users/me',
        { firstName: `F${randomUUID().slice(0, 6)}` },
        user,
      );
    } else if (r < 0.95 && project.tasks.length > 3) {
      const t = project.tasks.splice(Math.floor(Math.random() * project.tasks.length), 1)[0]!;
      await this.write('DestroyTask', 'projects', 'DELETE', `${base}/tasks/${t.id}`, undefined, user);
    } else if (r < 0.97) {
      await this.write(
        'ModifyProject',
        'projects',
        'PATCH',
        base,
        { description: `Edited ${randomUUID().slice(0, 8)}` },
        user,
      );
    } else {
      await this.signup();
    }
  }

  /**
   * Offers `rate` operations a second for `ms`, at most `concurrency` in flight (when requests
   * stall on a fault, the offered load waits for them), then waits for the last ones to finish.
   */
  async run(ms: number, rate: number, concurrency: number): Promise<void> {
    const end = Date.now() + ms;
    const pending = new Set<Promise<void>>();
    const interval = 1000 / rate;
    let next = Date.now();
    while (Date.now() < end) {
      if (this.inFlight >= concurrency) {
        await Promise.race(pending);
        continue;
      }
      this.inFlight++;
      const p: Promise<void> = this.op()
        .catch((err: unknown) => this.opts.log?.(`load operation failed: ${String(err)}`))
        .finally(() => {
          this.inFlight--;
          pending.delete(p);
        });
      pending.add(p);
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
    await Promise.all(pending);
  }
}
