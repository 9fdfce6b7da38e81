/**
 * The HTTP side of `npm run bench`: the three apps with their components and aggregators in this
 * process (e2e/system.ts, e2e/projects.ts, e2e/estimation.ts: their own private namespace, removed
 * at the end), each listening on port 0.
 *
 * - `Prefer: wait` latency: POST a task with `Prefer: wait=10`, one request at a time, until the
 *   201 (the command decided and the view committed); then at fixed offered rates (open loop,
 *   from the load generator's process, each request timed from when it was due), over ten boards.
 * - Ingress: autocannon against one read and one write endpoint of each app, authenticated. Writes
 *   answer 202 without waiting; the commands they leave behind are decided after the run.
 * Each rate run and each autocannon run starts once the system has no work left from the ones before.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import autocannon from 'autocannon';
import { consumersBusy } from '@devpie/client-events/testing';
import { startSystem, type RunningSystem } from '../e2e/system';
import { addProjects } from '../e2e/projects';
import { addEstimation } from '../e2e/estimation';
import type { HttpTarget, LoadGenerator } from './load';
import { percentiles, type Percentiles } from './percentiles';

export interface IngressResult {
  app: string;
  kind: 'read' | 'write';
  endpoint: string;
  requestsPerSecond: number;
  latencyMs: { p50: number; p97_5: number; p99: number; max: number };
  requests: number;
  non2xx: number;
  errors: number;
}

/** `Prefer: wait` writes sent at a fixed rate (open loop, from the load generator's process). */
export interface WaitAtRate {
  offered: number;
  achieved: number;
  ms: Percentiles;
  requests: number;
  /** 201: decided and in the view within the wait; anything else counts here. */
  notCreated: number;
  errors: number;
}

export interface HttpResult {
  preferWait: { requests: number; created: number; ms: Percentiles };
  waitAtRates: WaitAtRate[];
  ingress: IngressResult[];
  /** Before each run, how long the system took to finish the commands the runs before it left. */
  drains: { before: string; seconds: number }[];
}

async function listen(app: {
  listen(port: number, cb: () => void): Server;
}): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

/**
 * Waits until no durable has work left (twice in a row): a run measured while the system still
 * decides and folds the commands an earlier run left behind would share the CPU with them.
 */
async function drained(sys: RunningSystem, timeoutMs = 180_000): Promise<number> {
  const started = performance.now();
  for (let calm = 0; calm < 2;) {
    const busy = await consumersBusy(sys.env);
    calm = busy.length === 0 ? calm + 1 : 0;
    if (performance.now() - started > timeoutMs)
      throw new Error(`the system did not drain in ${timeoutMs} ms: ${busy.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return (performance.now() - started) / 1000;
}

export async function httpBench(opts: {
  /** The load generator (another process): the open-loop client. */
  load: LoadGenerator;
  waitRequests: number;
  /** Offered rates (requests/s) of the open-loop `Prefer: wait` runs. */
  waitRates: number[];
  seconds: number;
  connections: number;
}): Promise<HttpResult> {
  const sys = await startSystem();
  const servers: Server[] = [];
  try {
    const projects = await addProjects(sys);
    const estimation = await addEstimation(sys);
    const serve = async (app: Parameters<typeof listen>[0]) => {
      const { server, url } = await listen(app);
      servers.push(server);
      return url;
    };
    const identityUrl = await serve(sys.identity);
    const projectsUrl = await serve(projects.app);
    const estimationUrl = await serve(estimation.app);
    const call = async (url: string, method: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };

    const email = `bench-${Date.now()}@example.com`;
    const signup = await call(`${identityUrl}/api/v1/auth/signup`, 'POST', {
      email,
      password: 'Three-Point-42',
      firstName: 'Bench',
      lastName: 'Mark',
    });
    if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${JSON.stringify(signup.body)}`);
    const auth = { authorization: `Bearer ${String(signup.body.token)}` };
    const wait = { ...auth, prefer: 'wait=10' };
    const project = await call(`${projectsUrl}/api/v1/projects`, 'POST', { name: 'HTTP bench' }, wait);
    if (project.status !== 201)
      throw new Error(`add project: ${project.status} ${JSON.stringify(project.body)}`);
    const projectId = String(project.body.id);
    const columnId = String((project.body.columns as { id: string }[])[0]!.id);
    const tasksUrl = `${projectsUrl}/api/v1/projects/${projectId}/columns/${columnId}/tasks`;
    const estimateUrl = `${estimationUrl}/api/v1/estimates/projects/${projectId}`;
    for (let i = 0; ; i++) {
      if ((await call(estimateUrl, 'GET', undefined, auth)).status === 200) break;
      if (i > 200) throw new Error('the estimate of the HTTP bench project never appeared');
      await new Promise((r) => setTimeout(r, 25));
    }

    const samples: number[] = [];
    let created = 0;
    for (let i = 0; i < opts.waitRequests; i++) {
      const t = performance.now();
      const res = await call(tasksUrl, 'POST', { title: `Waited ${i}` }, wait);
      samples.push(performance.now() - t);
      if (res.status === 201) created++;
    }

    // open loop: tasks POSTed with Prefer: wait at a fixed rate, spread over ten boards, from the
    // load generator's process (a client in this one would take the apps' CPU)
    const targets: HttpTarget[] = [];
    for (let b = 0; b < 10; b++) {
      const p = await call(`${projectsUrl}/api/v1/projects`, 'POST', { name: `HTTP rate ${b}` }, wait);
      if (p.status !== 201) throw new Error(`add project: ${p.status} ${JSON.stringify(p.body)}`);
      const column = String((p.body.columns as { id: string }[])[0]!.id);
      targets.push({
        method: 'POST',
        url: `${projectsUrl}/api/v1/projects/${String(p.body.id)}/columns/${column}/tasks`,
        headers: { ...wait, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Waited at a rate' }),
      });
    }
    const drains: HttpResult['drains'] = [];
    const drain = async (before: string) => drains.push({ before, seconds: await drained(sys) });
    const waitAtRate = async (offered: number): Promise<WaitAtRate> => {
      await drain(`Prefer: wait at ${offered}/s`);
      const r = await opts.load.http(targets, offered, opts.seconds);
      const requests = Object.values(r.statuses).reduce((a, n) => a + n, 0) + r.failed;
      return {
        offered,
        achieved: r.achieved,
        ms: r.ms,
        requests,
        notCreated: requests - (r.statuses['201'] ?? 0) - r.failed,
        errors: r.failed,
      };
    };
    const waitAtRates: WaitAtRate[] = [];
    for (const rate of opts.waitRates) waitAtRates.push(await waitAtRate(rate));

    const run = async (
      app: string,
      kind: 'read' | 'write',
      endpoint: string,
      url: string,
      method: 'GET' | 'POST' | 'PATCH' | 'PUT',
      body?: unknown,
    ): Promise<IngressResult> => {
      await drain(`${app} ${kind}`);
      const r = await autocannon({
        url,
        method,
        duration: opts.seconds,
        connections: opts.connections,
        headers: { ...auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return {
        app,
        kind,
        endpoint,
        requestsPerSecond: r.requests.average,
        latencyMs: { p50: r.latency.p50, p97_5: r.latency.p97_5, p99: r.latency.p99, max: r.latency.max },
        requests: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors,
      };
    };
    // reads first: the writes leave a backlog of commands behind them
    const ingress = [
      await run('identity', 'read', 'GET /users/me', `${identityUrl}/api/v1/users/me`, 'GET'),
      await run(
        'projects',
        'read',
        'GET /projects/:id',
        `${projectsUrl}/api/v1/projects/${projectId}`,
        'GET',
      ),
      await run('estimation', 'read', 'GET /estimates/projects/:id', estimateUrl, 'GET'),
      await run('identity', 'write', 'PATCH /users/me', `${identityUrl}/api/v1/users/me`, 'PATCH', {
        firstName: 'Benched',
      }),
      await run('projects', 'write', 'POST …/columns/:id/tasks', tasksUrl, 'POST', { title: 'Cannon task' }),
      await run('estimation', 'write', 'PUT …/rate', `${estimateUrl}/rate`, 'PUT', {
        hourlyRate: '95.50',
        currency: 'EUR',
      }),
    ];
    return {
      preferWait: { requests: opts.waitRequests, created, ms: percentiles(samples) },
      waitAtRates,
      ingress,
      drains,
    };
  } finally {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    await sys.stop();
  }
}
