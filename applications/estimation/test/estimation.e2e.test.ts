import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { ident, newId } from '@devpie/client-events';
import { eventually } from '@devpie/client-events/testing';
import { keyId } from '@devpie/http-kit';
import { addEstimation, type RunningEstimation } from '../../../e2e/estimation';
import { addProjects, type RunningProjects } from '../../../e2e/projects';
import { startSystem, type RunningSystem } from '../../../e2e/system';
import { bearer, commandCount, signUp as signUpAs, WAIT, type SignedUp } from '../../../e2e/client';
import type { EstimateRepresentation } from '../src/representation';

let sys: RunningSystem;
let projects: RunningProjects;
let estimation: RunningEstimation;
beforeAll(async () => {
  sys = await startSystem();
  projects = await addProjects(sys);
  estimation = await addEstimation(sys);
}, 30_000);
afterAll(() => sys.stop());

const api = () => request(estimation.app);
const board = () => request(projects.app);
const identity = () => request(sys.identity);

type Estimate = EstimateRepresentation;
type User = SignedUp;
interface Project {
  id: string;
  columns: { id: string; title: string }[];
}

const signUp = () => signUpAs(sys, 'Three-Point-42');

/** A project made through the Projects app, once Estimation shows its estimate. */
async function createProject(who: User, body: Record<string, unknown> = {}): Promise<Project> {
  const res = await board()
    .post('/api/v1/projects')
    .set(bearer(who.token))
    .set(WAIT)
    .send({ name: `Quote ${newId().slice(-6)}`, ...body });
  expect(res.status).toBe(201);
  await estimateWhen(who, res.body.id, () => true);
  return res.body;
}

/** A task added through the Projects app; its id from the Location. */
async function addTask(who: User, project: Project, columnIndex: number, title: string): Promise<string> {
  const res = await board()
    .post(`/api/v1/projects/${project.id}/columns/${project.columns[columnIndex]!.id}/tasks`)
    .set(bearer(who.token))
    .set(WAIT)
    .send({ title });
  expect(res.status).toBe(201);
  return String(res.headers.location).split('/').pop()!;
}

/** The estimate as `who` sees it once `ready` holds (Estimation follows Projects' events). */
async function estimateWhen(
  who: User,
  projectId: string,
  ready: (e: Estimate) => boolean,
): Promise<Estimate> {
  return eventually(async () => {
    const res = await api().get(`/api/v1/estimates/projects/${projectId}`).set(bearer(who.token));
    return res.status === 200 && ready(res.body) ? (res.body as Estimate) : undefined;
  });
}

const putEstimate = (who: User, projectId: string, taskId: string, body: unknown) =>
  api()
    .put(`/api/v1/estimates/projects/${projectId}/tasks/${taskId}`)
    .set(bearer(who.token))
    .send(body as object);
const putRate = (who: User, projectId: string, body: unknown) =>
  api()
    .put(`/api/v1/estimates/projects/${projectId}/rate`)
    .set(bearer(who.token))
    .send(body as object);

const eur = (minor: number, amount: string) => ({ minor, amount });

describe('a quote that follows its project', () => {
  test('tasks, estimates, the rate, a destroyed task and a destroyed project, with exact figures at each step', async () => {
    const owner = await signUp();
    const project = await createProject(owner, { name: 'Web shop' });
    const empty = await estimateWhen(owner, project.id, () => true);
    expect(empty).toMatchObject({
      projectId: project.id,
      name: 'Web shop',
      archived: false,
      ownerId: owner.user.id,
      teamId: null,
      role: 'owner',
      rate: null,
      lines: [],
      totals: { tasks: 0, estimated: 0, unestimated: 0, expectedHours: '0.00', sigmaHours: '0.00' },
      range: { confidence: '95%', lowHours: '0.00', highHours: '0.00' },
      cost: null,
    });

    // three tasks added in Projects appear as unestimated lines, in board order
    const design = await addTask(owner, project, 0, 'Design');
    const build = await addTask(owner, project, 0, 'Build');
    const deploy = await addTask(owner, project, 1, 'Deploy');
    const listed = await estimateWhen(owner, project.id, (e) => e.lines.length === 3);
    expect(listed.lines).toEqual([
      {
        taskId: design,
        title: 'Design',
        columnId: project.columns[0]!.id,
        columnTitle: 'To Do',
        status: 'unestimated',
        estimate: null,
        revision: 0,
        expectedHours: null,
        sigmaHours: null,
      },
      expect.objectContaining({ taskId: build, title: 'Build', columnTitle: 'To Do', status: 'unestimated' }),
      expect.objectContaining({ taskId: deploy, title: 'Deploy', columnTitle: 'In Progress' }),
    ]);
    expect(listed.totals).toMatchObject({ tasks: 3, unestimated: 3, expectedHours: '0.00' });

    // estimates: expected = (o + 4m + p)/6, σ = (p − o)/6, σ_total = √Σσ², range ± 2σ_total
    const first = await putEstimate(owner, project.id, design, {
      optimistic: 1,
      likely: 2,
      pessimistic: 3,
    }).set(WAIT);
    expect(first.status).toBe(200);
    expect(first.body.lines[0]).toMatchObject({
      status: 'estimated',
      estimate: { optimistic: 1, likely: 2, pessimistic: 3 },
      revision: 1,
      expectedHours: '2.00',
      sigmaHours: '0.33',
    });
    expect(first.body.totals).toEqual({
      tasks: 3,
      estimated: 1,
      unestimated: 2,
      expectedHours: '2.00',
      sigmaHours: '0.33',
    });
    expect(first.body.range).toEqual({ confidence: '95%', lowHours: '1.33', highHours: '2.67' });
    expect(first.body.cost).toBeNull();

    const second = await putEstimate(owner, project.id, build, {
      optimistic: 2,
      likely: 4,
      pessimistic: 12,
    }).set(WAIT);
    expect(second.status).toBe(200);
    expect(second.body.lines[1]).toMatchObject({ expectedHours: '5.00', sigmaHours: '1.67' });
    expect(second.body.totals).toMatchObject({ unestimated: 1, expectedHours: '7.00', sigmaHours: '1.70' });
    expect(second.body.range).toMatchObject({ lowHours: '3.60', highHours: '10.40' });

    // the rate, in major units as a decimal string, priced exactly in minor units
    const rated = await putRate(owner, project.id, { hourlyRate: '100.00', currency: 'EUR' }).set(WAIT);
    expect(rated.status).toBe(200);
    expect(rated.body.rate).toEqual({ currency: 'EUR', hourlyRate: eur(10_000, '100.00') });
    expect(rated.body.cost).toEqual({
      currency: 'EUR',
      hourlyRate: eur(10_000, '100.00'),
      expected: eur(70_000, '700.00'),
      low: eur(36_007, '360.07'), // 7 h − 2·1.6997 h = 3.6007 h
      high: eur(103_993, '1039.93'),
    });

    const third = await putEstimate(owner, project.id, deploy, {
      optimistic: 0.5,
      likely: 1.25,
      pessimistic: 4,
    }).set(WAIT);
    expect(third.status).toBe(200);
    expect(third.body.lines[2]).toMatchObject({ expectedHours: '1.58', sigmaHours: '0.58' });
    expect(third.body.totals).toMatchObject({ unestimated: 0, expectedHours: '8.58', sigmaHours: '1.80' });
    expect(third.body.range).toMatchObject({ lowHours: '4.99', highHours: '12.18' });
    expect(third.body.cost).toMatchObject({
      expected: eur(85_833, '858.33'), // 8.58333… h
      low: eur(49_894, '498.94'), // 4.989357 h
      high: eur(121_773, '1217.73'), // 12.177310 h
    });

    // a task destroyed in Projects leaves the quote; Estimation removes its estimate
    const destroyed = await board()
      .delete(`/api/v1/projects/${project.id}/tasks/${build}`)
      .set(bearer(owner.token))
      .set(WAIT);
    expect(destroyed.status).toBe(200);
    const withoutBuild = await estimateWhen(owner, project.id, (e) => e.lines.length === 2);
    expect(withoutBuild.lines.map((l) => l.title)).toEqual(['Design', 'Deploy']);
    expect(withoutBuild.totals).toMatchObject({
      tasks: 2,
      estimated: 2,
      expectedHours: '3.58',
      sigmaHours: '0.67',
    });
    expect(withoutBuild.range).toMatchObject({ lowHours: '2.24', highHours: '4.93' });
    expect(withoutBuild.cost).toMatchObject({
      expected: eur(35_833, '358.33'),
      low: eur(22_396, '223.96'),
      high: eur(49_270, '492.70'),
    });
    const history = await eventually(async () => {
      const res = await api()
        .get(`/api/v1/estimates/projects/${project.id}/history`)
        .set(bearer(owner.token));
      return res.body.items?.length === 5 ? res.body.items : undefined;
    });
    expect(history[4]).toMatchObject({ kind: 'TaskEstimateRemoved', taskId: build, by: owner.user.id });
    const before = await commandCount(sys);
    const gone = await putEstimate(owner, project.id, build, {
      optimistic: 1,
      likely: 1,
      pessimistic: 1,
    }).set(WAIT);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ errors: [{ path: 'params.taskId' }] });
    expect(await commandCount(sys)).toBe(before);

    // the project destroyed: the estimate stays readable, archived, and takes no more writes
    const dropped = await board().delete(`/api/v1/projects/${project.id}`).set(bearer(owner.token)).set(WAIT);
    expect(dropped.status).toBe(204);
    const archived = await estimateWhen(owner, project.id, (e) => e.archived);
    expect(archived.totals).toEqual(withoutBuild.totals);
    expect(archived.cost).toEqual(withoutBuild.cost);
    const refused = await putRate(owner, project.id, { hourlyRate: 120, currency: 'EUR' }).set(WAIT);
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({
      reason: 'EstimateArchived',
      type: 'urn:devpie:problem:EstimateArchived',
    });
    const queued = await putEstimate(owner, project.id, design, { optimistic: 1, likely: 1, pessimistic: 1 });
    expect(queued.status).toBe(202);
    expect(queued.body).toEqual({ commandId: expect.any(String), id: project.id });
    expect(queued.headers.location).toBe(`/api/v1/commands/${queued.body.commandId}`);
    const status = await eventually(async () => {
      const r = await api().get(queued.headers.location!).set(bearer(owner.token));
      return r.body.status === 'rejected' ? r.body : undefined;
    });
    expect(status).toMatchObject({ type: 'EstimateTask', reason: 'EstimateArchived' });
    expect((await estimateWhen(owner, project.id, () => true)).lines[0]!.revision).toBe(1);
  });

  test('a write waits while Estimation catches up with a project and task Projects just added', async () => {
    const owner = await signUp();
    // the reactor lags: the view shows the project and its task from Projects' own events, but
    // Estimation has neither opened the estimate nor registered the task yet
    const { reactor } = estimation.component;
    await reactor.stop();
    try {
      const project = await createProject(owner);
      const task = await addTask(owner, project, 0, 'Hosting');
      await estimateWhen(owner, project.id, (e) => e.lines.length === 1);
      const writes = Promise.all([
        putRate(owner, project.id, { hourlyRate: '40', currency: 'EUR' }).set(WAIT),
        putEstimate(owner, project.id, task, { optimistic: 2, likely: 2, pessimistic: 2 }).set(WAIT),
      ]);
      await new Promise((r) => setTimeout(r, 300));
      await reactor.start();
      const [rate, estimated] = await writes;
      expect([rate.status, estimated.status]).toEqual([200, 200]);
      const quote = await estimateWhen(owner, project.id, () => true);
      expect(quote.cost?.expected).toEqual(eur(8000, '80.00'));
    } finally {
      if (!reactor.bound) await reactor.start();
    }
  });

  test('a revision replaces the estimate; the history keeps every change with who and when', async () => {
    const owner = await signUp();
    const project = await createProject(owner);
    const task = await addTask(owner, project, 0, 'Copy');
    await estimateWhen(owner, project.id, (e) => e.lines.length === 1);
    expect(
      (await putEstimate(owner, project.id, task, { optimistic: 1, likely: 2, pessimistic: 3 }).set(WAIT))
        .status,
    ).toBe(200);
    const revised = await putEstimate(owner, project.id, task, {
      optimistic: 2,
      likely: 3,
      pessimistic: 7,
    }).set(WAIT);
    expect(revised.body.lines[0]).toMatchObject({ revision: 2, expectedHours: '3.50', sigmaHours: '0.83' });
    // a JSON number in major units is read exactly as written: 95.5 USD = 9550 cents
    const rated = await putRate(owner, project.id, { hourlyRate: 95.5, currency: 'usd' }).set(WAIT);
    expect(rated.body.rate).toEqual({ currency: 'USD', hourlyRate: { minor: 9550, amount: '95.50' } });
    expect(rated.body.cost.expected).toEqual({ minor: 33_425, amount: '334.25' });
    const yen = await putRate(owner, project.id, { hourlyRate: '12000', currency: 'JPY' }).set(WAIT);
    expect(yen.body.cost.expected).toEqual({ minor: 42_000, amount: '42000' });

    const res = await api().get(`/api/v1/estimates/projects/${project.id}/history`).set(bearer(owner.token));
    expect(res.status).toBe(200);
    const by = owner.user.id;
    expect(res.body.items).toEqual([
      expect.objectContaining({
        kind: 'TaskEstimated',
        taskId: task,
        taskTitle: 'Copy',
        estimate: { optimistic: 1, likely: 2, pessimistic: 3 },
        revision: 1,
        by,
      }),
      expect.objectContaining({
        kind: 'TaskEstimated',
        revision: 2,
        estimate: { optimistic: 2, likely: 3, pessimistic: 7 },
      }),
      expect.objectContaining({
        kind: 'RateSet',
        rate: { currency: 'USD', hourlyRate: { minor: 9550, amount: '95.50' } },
      }),
      expect.objectContaining({
        kind: 'RateSet',
        rate: { currency: 'JPY', hourlyRate: { minor: 12_000, amount: '12000' } },
        by,
      }),
    ]);
    for (const item of res.body.items) expect(Date.parse(item.at)).toBeGreaterThan(Date.now() - 60_000);
  });

  test('Idempotency-Key: a retried write is one command; without Prefer the write answers 202', async () => {
    const owner = await signUp();
    const project = await createProject(owner);
    const key = { 'Idempotency-Key': `rate-${newId()}` };
    const before = await commandCount(sys);
    const a = await putRate(owner, project.id, { hourlyRate: '50', currency: 'EUR' }).set(key);
    const b = await putRate(owner, project.id, { hourlyRate: '50', currency: 'EUR' }).set(key).set(WAIT);
    expect(a.status).toBe(202);
    expect(b.status).toBe(200);
    expect(b.headers.location).toBe(a.headers.location);
    expect(await commandCount(sys)).toBe(before + 1);
    const other = await putRate(owner, project.id, { hourlyRate: '60', currency: 'EUR' }).set(key);
    expect(other.status).toBe(422);
    expect(other.body.reason).toBe('IdempotencyKeyReused');
    const history = await api()
      .get(`/api/v1/estimates/projects/${project.id}/history`)
      .set(bearer(owner.token));
    expect(history.body.items).toHaveLength(1);
  });
});

describe('bad input and other people’s projects', () => {
  test('every bad request is problem+json 4xx naming the field, and writes nothing', async () => {
    const owner = await signUp();
    const stranger = await signUp();
    const project = await createProject(owner);
    const task = await addTask(owner, project, 0, 'Logo');
    await estimateWhen(owner, project.id, (e) => e.lines.length === 1);
    const first = await putEstimate(owner, project.id, task, {
      optimistic: 1,
      likely: 2,
      pessimistic: 3,
    }).set(WAIT);
    expect(first.status).toBe(200);
    const ready = first.body as Estimate;
    const theirs = await createProject(stranger);
    const forged = jwt.sign({}, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, {
      algorithm: 'RS256',
      keyid: keyId(sys.keys.publicKey),
      issuer: sys.identityConfig.JWT_ISSUER,
      audience: sys.identityConfig.JWT_AUDIENCE,
      subject: owner.user.id,
      expiresIn: 60,
    });
    const ok = { optimistic: 1, likely: 2, pessimistic: 3 };
    const before = await commandCount(sys);
    const base = `/api/v1/estimates/projects/${project.id}`;
    const cases: [request.Test, number, string?][] = [
      [
        putEstimate(owner, project.id, task, { optimistic: 5, likely: 2, pessimistic: 6 }),
        400,
        'body.likely',
      ],
      [
        putEstimate(owner, project.id, task, { optimistic: 1, likely: 5, pessimistic: 3 }),
        400,
        'body.pessimistic',
      ],
      [
        putEstimate(owner, project.id, task, { optimistic: -1, likely: 2, pessimistic: 3 }),
        400,
        'body.optimistic',
      ],
      [
        putEstimate(owner, project.id, task, { optimistic: 1.005, likely: 2, pessimistic: 3 }),
        400,
        'body.optimistic',
      ],
      [putEstimate(owner, project.id, task, { ...ok, pessimistic: 10_000.5 }), 400, 'body.pessimistic'],
      [putEstimate(owner, project.id, task, { optimistic: 1, likely: 2 }), 400, 'body.pessimistic'],
      [putEstimate(owner, project.id, task, { ...ok, likely: '2' }), 400, 'body.likely'],
      [putEstimate(owner, project.id, task, { ...ok, note: 'x' }), 400, 'body'],
      [putEstimate(owner, project.id, newId(), ok), 404, 'params.taskId'],
      [putEstimate(owner, project.id, 'not-a-task', ok), 404],
      [putEstimate(owner, theirs.id, task, ok), 404],
      [putRate(owner, project.id, { hourlyRate: '95.555', currency: 'EUR' }), 400, 'body.hourlyRate'],
      [putRate(owner, project.id, { hourlyRate: '-5', currency: 'EUR' }), 400, 'body.hourlyRate'],
      [putRate(owner, project.id, { hourlyRate: 1000.5, currency: 'JPY' }), 400, 'body.hourlyRate'],
      [putRate(owner, project.id, { hourlyRate: '10000000.01', currency: 'EUR' }), 400, 'body.hourlyRate'],
      [putRate(owner, project.id, { hourlyRate: '95', currency: 'XYZ' }), 400, 'body.currency'],
      [putRate(owner, project.id, { hourlyRate: '95' }), 400, 'body.currency'],
      [putRate(owner, theirs.id, { hourlyRate: '95', currency: 'EUR' }), 404],
      [putRate(stranger, project.id, { hourlyRate: '95', currency: 'EUR' }), 404],
      [putRate(owner, newId(), { hourlyRate: '95', currency: 'EUR' }), 404],
      [api().put(`${base}/rate`).set(bearer(owner.token)).type('json').send('{"hourlyRate": 9'), 400, 'body'],
      [api().get(base).set(bearer(stranger.token)), 404],
      [api().get(`${base}/history`).set(bearer(stranger.token)), 404],
      [api().get(`/api/v1/estimates/projects/${newId()}`).set(bearer(owner.token)), 404],
      [api().get('/api/v1/estimates/projects/not-a-uuid').set(bearer(owner.token)), 404],
      [api().get(base), 401],
      [api().get(base).set(bearer(forged)), 401],
      [
        putRate(owner, project.id, { hourlyRate: '95', currency: 'EUR' }).set({ Authorization: 'Basic x' }),
        401,
      ],
      [api().get(`/api/v1/commands/${newId()}`).set(bearer(owner.token)), 404],
    ];
    for (const [i, [req, status, field]] of cases.entries()) {
      const res = await req;
      expect({ case: i, status: res.status }).toEqual({ case: i, status });
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.status).toBe(status);
      if (field) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    expect(await commandCount(sys)).toBe(before);
    expect(await estimateWhen(owner, project.id, () => true)).toEqual(ready);
  });
});

describe('access follows the project', () => {
  /** A team administered by `admin`, with members in roles, once Estimation's views know them all. */
  async function teamWith(admin: User, members: [User, string][]) {
    const team = await identity()
      .post('/api/v1/teams')
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ name: 'Studio' });
    expect(team.status).toBe(201);
    const teamId = team.body.id as string;
    const memberships = new Map<string, string>();
    for (const [who, role] of members) {
      const m = await identity()
        .post(`/api/v1/teams/${teamId}/memberships`)
        .set(bearer(admin.token))
        .set(WAIT)
        .send({ email: who.email, role });
      expect(m.status).toBe(201);
      memberships.set(who.user.id, m.body.id);
    }
    // both Projects (which checks the team when a project is added) and Estimation fold memberships
    for (const context of ['projects', 'estimation']) {
      const schema = ident(sys.env.names.schema(context));
      await eventually(async () => {
        const { rows } = await estimation.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${schema}.team_members WHERE team_id = $1`,
          [teamId],
        );
        return rows[0]!.n === members.length + 1 ? true : undefined;
      });
    }
    return { teamId, memberships };
  }

  test('team members read; administrators and editors write; commenters and viewers do not; others see nothing', async () => {
    const [admin, editor, commenter, viewer, outsider] = await Promise.all(Array.from({ length: 5 }, signUp));
    const { teamId, memberships } = await teamWith(admin!, [
      [editor!, 'editor'],
      [commenter!, 'commenter'],
      [viewer!, 'viewer'],
    ]);
    const project = await createProject(admin!, { teamId });
    const task = await addTask(admin!, project, 0, 'Shared task');
    await estimateWhen(admin!, project.id, (e) => e.lines.length === 1);

    for (const [who, role] of [
      [admin, 'administrator'],
      [editor, 'editor'],
      [commenter, 'commenter'],
      [viewer, 'viewer'],
    ] as const) {
      const res = await api().get(`/api/v1/estimates/projects/${project.id}`).set(bearer(who!.token));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ teamId, role });
    }
    const byEditor = await putRate(editor!, project.id, { hourlyRate: '80', currency: 'GBP' }).set(WAIT);
    expect(byEditor.status).toBe(200);
    expect(byEditor.body.role).toBe('editor');
    const estimated = await putEstimate(admin!, project.id, task, {
      optimistic: 1,
      likely: 1,
      pessimistic: 1,
    }).set(WAIT);
    expect(estimated.body.cost.expected).toEqual({ minor: 8000, amount: '80.00' });

    const before = await commandCount(sys);
    for (const who of [commenter!, viewer!]) {
      const rate = await putRate(who, project.id, { hourlyRate: '1', currency: 'GBP' });
      const est = await putEstimate(who, project.id, task, { optimistic: 9, likely: 9, pessimistic: 9 });
      expect([rate.status, est.status]).toEqual([403, 403]);
    }
    for (const req of [
      api().get(`/api/v1/estimates/projects/${project.id}`).set(bearer(outsider!.token)),
      api().get(`/api/v1/estimates/projects/${project.id}/history`).set(bearer(outsider!.token)),
      putRate(outsider!, project.id, { hourlyRate: '1', currency: 'GBP' }),
    ]) {
      expect((await req).status).toBe(404);
    }
    expect(await commandCount(sys)).toBe(before);

    const history = await api()
      .get(`/api/v1/estimates/projects/${project.id}/history`)
      .set(bearer(viewer!.token));
    expect(history.body.items.map((i: { kind: string; by: string }) => [i.kind, i.by])).toEqual([
      ['RateSet', editor!.user.id],
      ['TaskEstimated', admin!.user.id],
    ]);

    // a member who leaves the team loses the estimate with it
    const removed = await identity()
      .delete(`/api/v1/teams/${teamId}/memberships/${memberships.get(viewer!.user.id)}`)
      .set(bearer(admin!.token))
      .set(WAIT);
    expect(removed.status).toBe(204);
    await eventually(async () => {
      const res = await api().get(`/api/v1/estimates/projects/${project.id}`).set(bearer(viewer!.token));
      return res.status === 404 ? true : undefined;
    });
  });
});
