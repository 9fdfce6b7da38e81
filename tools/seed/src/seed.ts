export const DEMO_USER = {
  email: 'demo@example.com',
  password: 'Kanban-Board-2026!',
  firstName: 'Dana',
  lastName: 'Demo',
};
export const TEAMMATE = {
  email: 'sam@example.com',
  password: 'Kanban-Board-2026!',
  firstName: 'Sam',
  lastName: 'Rivera',
};
export const DEMO_TEAM = 'Demo Studio';

interface TaskSpec {
  title: string;
  content?: string;
  /** Index of the column the task is moved to after it is added to the first one. */
  moveTo?: number;
  estimate: { optimistic: number; likely: number; pessimistic: number };
}
interface ProjectSpec {
  name: string;
  description: string;
  team: boolean;
  /** Major units as a decimal string, as the client sends it (`"95.00"`). */
  rate: { hourlyRate: string; currency: string };
  tasks: TaskSpec[];
}

export const DEMO_PROJECTS: ProjectSpec[] = [
  {
    name: 'Website Redesign',
    description: 'New marketing site for a bakery client',
    team: true,
    rate: { hourlyRate: '95.00', currency: 'EUR' },
    tasks: [
      { title: 'Interview the client', moveTo: 3, estimate: { optimistic: 1, likely: 2, pessimistic: 4 } },
      { title: 'Wireframes', moveTo: 2, estimate: { optimistic: 4, likely: 6, pessimistic: 12 } },
      { title: 'Visual design', moveTo: 1, estimate: { optimistic: 8, likely: 12, pessimistic: 20 } },
      { title: 'Build the pages', estimate: { optimistic: 16, likely: 24, pessimistic: 40 } },
      {
        title: 'Launch checklist',
        content: 'DNS, redirects, analytics',
        estimate: { optimistic: 1, likely: 2, pessimistic: 3 },
      },
    ],
  },
  {
    name: 'Mobile App MVP',
    description: 'Personal side project: a habit tracker',
    team: false,
    rate: { hourlyRate: '60.00', currency: 'USD' },
    tasks: [
      { title: 'Sketch the screens', moveTo: 1, estimate: { optimistic: 2, likely: 3, pessimistic: 5 } },
      { title: 'Offline storage', estimate: { optimistic: 6, likely: 10, pessimistic: 18 } },
      { title: 'Reminders', estimate: { optimistic: 3, likely: 5, pessimistic: 9.5 } },
    ],
  },
];

export interface SeedOptions {
  env: NodeJS.ProcessEnv;
  log(line: string): void;
  /** How long to wait for the apps to answer at all (they may be starting). */
  waitForAppsMs?: number;
}

export interface SeedResult {
  token: string;
  userId: string;
  teamId: string;
  projects: { id: string; name: string; created: boolean; tasks: { id: string; title: string }[] }[];
  estimation: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
    this.name = 'HttpError';
  }
}

export function endpoints(env: NodeJS.ProcessEnv) {
  const offset = Number(env.PORT_OFFSET ?? 0);
  const url = (given: string | undefined, port: number) =>
    (given ?? `http://localhost:${port + offset}`).replace(/\/$/, '');
  return {
    identity: url(env.IDENTITY_URL, 4000),
    projects: url(env.PROJECTS_URL, 4020),
    estimation: url(env.ESTIMATION_URL, 4040),
  };
}

type Json = Record<string, unknown>;

async function call(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; wait?: number } = {},
): Promise<{ status: number; body: Json; location: string | null }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(method !== 'GET' ? { prefer: `wait=${opts.wait ?? 10}` } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: Json;
  try {
    body = text ? (JSON.parse(text) as Json) : {};
  } catch {
    body = { text };
  }
  return { status: res.status, body, location: res.headers.get('location') };
}

async function ok(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown } = {},
  accept = [200, 201, 204],
) {
  // a write that lands just before what it depends on (a task the estimation reactor has not
  // registered yet) is refused or times out; it is tried again a few times
  for (let attempt = 1; ; attempt++) {
    const r = await call(method, url, opts);
    if (accept.includes(r.status)) return r;
    if (attempt < 6 && (r.status === 202 || r.status === 404 || r.status === 409 || r.status === 422)) {
      await new Promise((res) => setTimeout(res, 300 * attempt));
      continue;
    }
    throw new HttpError(r.status, r.body, `${method} ${url}`);
  }
}

/** Waits for the apps that must answer; then gives the optional ones a few seconds more. */
async function waitForApps(required: string[], optional: string[], timeoutMs: number): Promise<Set<string>> {
  const up = new Set<string>();
  const poll = async (urls: string[], until: number) => {
    while (Date.now() < until && urls.some((u) => !up.has(u))) {
      for (const u of urls) {
        if (up.has(u)) continue;
        const r = await fetch(`${u}/readyz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        if (r?.ok) up.add(u);
      }
      if (urls.some((u) => !up.has(u))) await new Promise((r) => setTimeout(r, 250));
    }
  };
  await poll(required, Date.now() + timeoutMs);
  await poll(optional, Date.now() + 5000);
  return up;
}

async function account(
  identity: string,
  user: typeof DEMO_USER,
  log: (l: string) => void,
): Promise<{ token: string; userId: string }> {
  const signup = await call('POST', `${identity}/api/v1/auth/signup`, { body: user, wait: 15 });
  if (signup.status === 201) {
    log(`  signed up ${user.email}`);
    const u = signup.body.user as Json;
    return { token: String(signup.body.token), userId: String(u.id) };
  }
  if (signup.status !== 409) throw new HttpError(signup.status, signup.body, 'sign-up');
  const signin = await ok('POST', `${identity}/api/v1/auth/signin`, {
    body: { email: user.email, password: user.password },
  });
  log(`  ${user.email} exists: signed in`);
  const u = signin.body.user as Json;
  return { token: String(signin.body.token), userId: String(u.id) };
}

const idFrom = (location: string | null, what: string): string => {
  const id = location?.split('/').pop();
  if (!id) throw new Error(`no Location for the new ${what}`);
  return id;
};

export async function seed(opts: SeedOptions): Promise<SeedResult> {
  const { log } = opts;
  const api = endpoints(opts.env);
  const up = await waitForApps([api.identity, api.projects], [api.estimation], opts.waitForAppsMs ?? 60_000);
  for (const need of [api.identity, api.projects]) {
    if (!up.has(need)) throw new Error(`${need} does not answer: is the system running (npm start)?`);
  }
  const estimation = up.has(api.estimation);

  log('accounts');
  const demo = await account(api.identity, DEMO_USER, log);
  const mate = await account(api.identity, TEAMMATE, log);
  const token = demo.token;

  log('team');
  const teams = await ok('GET', `${api.identity}/api/v1/teams`, { token });
  let team = (teams.body.items as Json[]).find((t) => t.name === DEMO_TEAM);
  if (!team) {
    team = (await ok('POST', `${api.identity}/api/v1/teams`, { token, body: { name: DEMO_TEAM } })).body;
    log(`  created ${DEMO_TEAM}`);
  } else log(`  ${DEMO_TEAM} exists`);
  const teamId = String(team.id);
  const members = await ok('GET', `${api.identity}/api/v1/teams/${teamId}/memberships`, { token });
  if (!(members.body.items as Json[]).some((m) => m.userId === mate.userId)) {
    await ok('POST', `${api.identity}/api/v1/teams/${teamId}/memberships`, {
      token,
      body: { email: TEAMMATE.email, role: 'editor' },
    });
    log(`  ${TEAMMATE.email} joined as editor`);
  }

  log('projects');
  const listed = await ok('GET', `${api.projects}/api/v1/projects?limit=100`, { token });
  const existing = listed.body.items as Json[];
  const result: SeedResult = { token, userId: demo.userId, teamId, projects: [], estimation };
  for (const spec of DEMO_PROJECTS) {
    const found = existing.find((p) => p.name === spec.name);
    if (found) {
      const board = (await ok('GET', `${api.projects}/api/v1/projects/${String(found.id)}`, { token })).body;
      const tasks = (board.columns as { tasks: { id: string; title: string }[] }[]).flatMap((c) =>
        c.tasks.map((t) => ({ id: t.id, title: t.title })),
      );
      result.projects.push({ id: String(found.id), name: spec.name, created: false, tasks });
      log(`  ${spec.name} exists (${tasks.length} tasks)`);
      continue;
    }
    const created = await ok('POST', `${api.projects}/api/v1/projects`, {
      token,
      body: { name: spec.name, description: spec.description, ...(spec.team ? { teamId } : {}) },
    });
    const projectId = idFrom(created.location, 'project');
    let columns = (created.body.columns as { id: string }[] | undefined) ?? [];
    if (columns.length === 0) {
      columns = (await ok('GET', `${api.projects}/api/v1/projects/${projectId}`, { token })).body.columns as {
        id: string;
      }[];
    }
    const tasks: { id: string; title: string }[] = [];
    for (const task of spec.tasks) {
      const added = await ok(
        'POST',
        `${api.projects}/api/v1/projects/${projectId}/columns/${columns[0]!.id}/tasks`,
        {
          token,
          body: { title: task.title, ...(task.content ? { content: task.content } : {}) },
        },
      );
      const taskId = idFrom(added.location, 'task');
      tasks.push({ id: taskId, title: task.title });
      if (task.moveTo !== undefined) {
        await ok('PATCH', `${api.projects}/api/v1/projects/${projectId}/tasks/${taskId}/move`, {
          token,
          body: { toColumnId: columns[task.moveTo]!.id, index: 0 },
        });
      }
    }
    result.projects.push({ id: projectId, name: spec.name, created: true, tasks });
    log(`  created ${spec.name}: ${tasks.length} tasks, ${spec.tasks.filter((t) => t.moveTo).length} moved`);
  }

  if (!estimation) {
    log(`estimates skipped: ${api.estimation} does not answer`);
  } else {
    log('estimates');
    for (const [i, spec] of DEMO_PROJECTS.entries()) {
      const p = result.projects[i]!;
      const base = `${api.estimation}/api/v1/estimates/projects/${p.id}`;
      await ok('PUT', `${base}/rate`, { token, body: spec.rate });
      for (const task of p.tasks) {
        const estimate = spec.tasks.find((t) => t.title === task.title)?.estimate;
        if (estimate) await ok('PUT', `${base}/tasks/${task.id}`, { token, body: estimate });
      }
      const quote = (await ok('GET', base, { token })).body as {
        totals?: { expectedHours?: string };
        cost?: {
          currency: string;
          expected: { amount: string };
          low: { amount: string };
          high: { amount: string };
        };
      };
      const cost = quote.cost;
      log(
        `  ${spec.name}: ${quote.totals?.expectedHours ?? '?'} h expected` +
          (cost
            ? `, ${cost.expected.amount} ${cost.currency} (95%: ${cost.low.amount}–${cost.high.amount})`
            : ''),
      );
    }
  }

  log(`done: sign in as ${DEMO_USER.email} / ${DEMO_USER.password} (teammate ${TEAMMATE.email})`);
  return result;
}
