import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import {
  buildAggregator,
  createLogger,
  DEFAULT_COLUMNS,
  ident,
  LIMITS,
  newId,
  projectEvents,
  type Envelope,
  type ProjectEvent,
} from '@devpie/client-events';
import { eventually, foldAll } from '@devpie/client-events/testing';
import { keyId } from '@devpie/http-kit';
import { PROJECTS, projectsProjection, type ProjectDoc } from '@devpie/projects-aggregator';
import { evolve, findTask, initialState, type ProjectState } from '@devpie/projects-component';
import { addProjects, type RunningProjects } from '../../../e2e/projects';
import { startSystem, type RunningSystem } from '../../../e2e/system';
import { bearer, commandCount, signUp as signUpAs, WAIT, type SignedUp } from '../../../e2e/client';

let sys: RunningSystem;
let projects: RunningProjects;
beforeAll(async () => {
  sys = await startSystem();
  projects = await addProjects(sys);
}, 30_000);
afterAll(() => sys.stop());

const api = () => request(projects.app);
const identity = () => request(sys.identity);
const schema = () => ident(sys.env.names.schema('projects'));

type Project = ProjectDoc & { role: string };
type User = SignedUp;

const signUp = () => signUpAs(sys, 'Kanban-Board-42');

async function createProject(who: User, body: Record<string, unknown> = {}): Promise<Project> {
  const res = await api()
    .post('/api/v1/projects')
    .set(bearer(who.token))
    .set(WAIT)
    .send({ name: `Project ${newId().slice(-6)}`, ...body });
  expect(res.status).toBe(201);
  return res.body;
}

async function addTask(who: User, project: Project, columnIndex = 0, title = 'A task'): Promise<Project> {
  const res = await api()
    .post(`/api/v1/projects/${project.id}/columns/${project.columns[columnIndex]!.id}/tasks`)
    .set(bearer(who.token))
    .set(WAIT)
    .send({ title });
  expect(res.status).toBe(201);
  return res.body;
}

/** A team administered by `admin`, with members in roles, once the projects views know them all. */
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
  await eventually(async () => {
    const { rows } = await projects.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${schema()}.team_members WHERE team_id = $1`,
      [teamId],
    );
    return rows[0]!.n === members.length + 1 ? true : undefined;
  });
  return { teamId, memberships };
}

/** The events of one project, in stream order, with their stream sequences. */
async function eventsOf(projectId: string): Promise<{ event: ProjectEvent; seq: number }[]> {
  const { js, jsm, names } = sys.env.messaging;
  const stream = names.stream('EVENTS');
  const subject = names.entity('projects', projectId);
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  const consumer = await js.consumers.get(stream, { filter_subjects: subject });
  const out: { event: ProjectEvent; seq: number }[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push({ event: projectEvents.parse(m.json()) as ProjectEvent, seq: m.seq });
    if (m.seq >= last!.seq) break;
  }
  messages.stop();
  return out;
}

const taskIdsByColumn = (p: { columns: { tasks: { id: string }[] }[] }) =>
  p.columns.map((c) => c.tasks.map((t) => t.id));

describe('projects', () => {
  test('the OpenAPI 3.1 document comes from the route schemas', async () => {
    const res = await api().get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const move = res.body.paths['/api/v1/projects/{projectId}/tasks/{taskId}/move'].patch;
    expect(move.requestBody.content['application/json'].schema).toMatchObject({
      required: ['toColumnId', 'index'],
      additionalProperties: false,
    });
  });

  test('POST /projects makes a board with the default columns and a prefix from the name', async () => {
    const owner = await signUp();
    const res = await api()
      .post('/api/v1/projects')
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ name: 'Devpie client core', description: 'The backend' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/projects/${res.body.id}`);
    expect(res.body).toMatchObject({
      name: 'Devpie client core',
      description: 'The backend',
      prefix: 'DCC',
      ownerId: owner.user.id,
      teamId: null,
      public: false,
      active: true,
      taskCount: 0,
      role: 'owner',
    });
    expect(res.body.columns.map((c: { title: string }) => c.title)).toEqual([...DEFAULT_COLUMNS]);
    expect(new Set(res.body.columns.map((c: { id: string }) => c.id)).size).toBe(DEFAULT_COLUMNS.length);

    const got = await api().get(`/api/v1/projects/${res.body.id}`).set(bearer(owner.token));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);

    const given = await createProject(owner, { name: 'Other', prefix: 'web2', public: true });
    expect(given).toMatchObject({ prefix: 'WEB2', public: true });
  });

  test('without Prefer a write answers 202 and its status is at GET /commands/:id', async () => {
    const owner = await signUp();
    const res = await api().post('/api/v1/projects').set(bearer(owner.token)).send({ name: 'Queued' });
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/api/v1/commands/${res.body.commandId}`);
    const status = await eventually(async () => {
      const r = await api().get(res.headers.location!).set(bearer(owner.token));
      return r.body.status === 'accepted' ? r.body : undefined;
    });
    expect(status).toMatchObject({ type: 'AddProject', entity: `projects.${res.body.id}` });
    expect((await api().get(`/api/v1/projects/${res.body.id}`).set(bearer(owner.token))).status).toBe(200);
    const other = await signUp();
    expect((await api().get(res.headers.location!).set(bearer(other.token))).status).toBe(404);
  });

  test('PATCH changes name, description, active, public and the column order', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const order = p.columns.map((c) => c.id).reverse();
    const res = await api().patch(`/api/v1/projects/${p.id}`).set(bearer(owner.token)).set(WAIT).send({
      name: 'Renamed',
      description: 'Now with words',
      active: false,
      public: true,
      columnOrder: order,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'Renamed',
      description: 'Now with words',
      active: false,
      public: true,
    });
    expect(res.body.columns.map((c: { id: string }) => c.id)).toEqual(order);
    expect(res.body.version).toBeGreaterThan(p.version);

    const bad = await api()
      .patch(`/api/v1/projects/${p.id}`)
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ columnOrder: order.slice(1) });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ reason: 'InvalidTransition' });
  });

  test('DELETE destroys the project: 204, then it is gone', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const res = await api().delete(`/api/v1/projects/${p.id}`).set(bearer(owner.token)).set(WAIT);
    expect(res.status).toBe(204);
    expect((await api().get(`/api/v1/projects/${p.id}`).set(bearer(owner.token))).status).toBe(404);
    expect((await api().delete(`/api/v1/projects/${p.id}`).set(bearer(owner.token))).status).toBe(404);
  });

  test('GET /projects: mine and my teams’, paginated by cursor, by name or update time, filtered', async () => {
    const me = await signUp();
    const admin = await signUp();
    const { teamId } = await teamWith(admin, [[me, 'viewer']]);
    const names = ['delta', 'Alpha', 'charlie', 'bravo'];
    const mine: Project[] = [];
    for (const name of names) mine.push(await createProject(me, { name }));
    const teams = await createProject(admin, { name: 'echo', teamId });
    await createProject(admin, { name: 'not mine' });

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await api()
        .get('/api/v1/projects')
        .query({ sort: 'name', limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(me.token));
      expect(res.status).toBe(200);
      pages.push(res.body.items.map((p: Project) => p.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([['Alpha', 'bravo'], ['charlie', 'delta'], ['echo']]);

    const all = await api().get('/api/v1/projects').query({ sort: 'name' }).set(bearer(me.token));
    expect(all.body.items.find((p: Project) => p.id === teams.id)).toMatchObject({
      role: 'viewer',
      teamId,
      columnCount: 4,
    });
    expect(all.body.items[0]).not.toHaveProperty('columns');
    expect(all.body.items.find((p: Project) => p.id === mine[0]!.id).role).toBe('owner');

    // the most recently changed first
    await api()
      .patch(`/api/v1/projects/${mine[1]!.id}`)
      .set(bearer(me.token))
      .set(WAIT)
      .send({ active: false });
    const updated = await api().get('/api/v1/projects').query({ sort: 'updated' }).set(bearer(me.token));
    expect(updated.body.items.map((p: Project) => p.name)).toEqual([
      'Alpha',
      'echo',
      'bravo',
      'charlie',
      'delta',
    ]);
    const byUpdate: string[] = [];
    cursor = null;
    do {
      const res: request.Response = await api()
        .get('/api/v1/projects')
        .query({ limit: 3, ...(cursor ? { cursor } : {}) })
        .set(bearer(me.token));
      byUpdate.push(...res.body.items.map((p: Project) => p.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(byUpdate).toEqual(updated.body.items.map((p: Project) => p.name));

    const archived = await api().get('/api/v1/projects?active=false').set(bearer(me.token));
    expect(archived.body.items.map((p: Project) => p.name)).toEqual(['Alpha']);
    const current = await api().get('/api/v1/projects?active=true&sort=name').set(bearer(me.token));
    expect(current.body.items.map((p: Project) => p.name)).toEqual(['bravo', 'charlie', 'delta', 'echo']);

    const wrongSort = await api()
      .get('/api/v1/projects')
      .query({ sort: 'updated', cursor: await nameCursor(me) })
      .set(bearer(me.token));
    expect(wrongSort.status).toBe(400);
    expect(wrongSort.body.errors[0].path).toBe('query.cursor');
  });

  async function nameCursor(who: User): Promise<string> {
    const res = await api().get('/api/v1/projects').query({ sort: 'name', limit: 1 }).set(bearer(who.token));
    return res.body.nextCursor;
  }
});

describe('columns and tasks', () => {
  test('columns are added, renamed and destroyed; a column with tasks is not', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const added = await api()
      .post(`/api/v1/projects/${p.id}/columns`)
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ title: 'Blocked' });
    expect(added.status).toBe(201);
    const column = added.body.columns[4];
    expect(column).toMatchObject({ title: 'Blocked', tasks: [] });
    expect(added.headers.location).toBe(`/api/v1/projects/${p.id}/columns/${column.id}`);

    const renamed = await api()
      .patch(`/api/v1/projects/${p.id}/columns/${column.id}`)
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ title: 'On hold' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.columns[4].title).toBe('On hold');

    const destroyed = await api()
      .delete(`/api/v1/projects/${p.id}/columns/${column.id}`)
      .set(bearer(owner.token))
      .set(WAIT);
    expect(destroyed.status).toBe(200);
    expect(destroyed.body.columns.map((c: { id: string }) => c.id)).toEqual(p.columns.map((c) => c.id));

    await addTask(owner, p, 0);
    const full = await api()
      .delete(`/api/v1/projects/${p.id}/columns/${p.columns[0]!.id}`)
      .set(bearer(owner.token))
      .set(WAIT);
    expect(full.status).toBe(422);
    expect(full.body).toMatchObject({ reason: 'ColumnNotEmpty', type: 'urn:devpie:problem:ColumnNotEmpty' });
  });

  test('tasks are added with keys from the prefix, changed, moved and destroyed; numbers are never reused', async () => {
    const owner = await signUp();
    const p = await createProject(owner, { name: 'Web shop', prefix: 'DP' });
    const [todo, doing] = p.columns.map((c) => c.id) as [string, string];
    const first = await api()
      .post(`/api/v1/projects/${p.id}/columns/${todo}/tasks`)
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ title: 'Sketch', content: 'on paper', assigneeId: owner.user.id });
    expect(first.status).toBe(201);
    const task = first.body.columns[0].tasks[0];
    expect(task).toMatchObject({
      key: 'DP-1',
      number: 1,
      title: 'Sketch',
      content: 'on paper',
      assigneeId: owner.user.id,
      columnId: todo,
    });
    expect(first.headers.location).toBe(`/api/v1/projects/${p.id}/tasks/${task.id}`);
    const second = (await addTask(owner, p, 0, 'Build')).columns[0]!.tasks[1]!;
    expect(second.key).toBe('DP-2');

    const changed = await api()
      .patch(`/api/v1/projects/${p.id}/tasks/${task.id}`)
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ title: 'Sketch the home page', assigneeId: null });
    expect(changed.status).toBe(200);
    expect(changed.body.columns[0].tasks[0]).toMatchObject({
      title: 'Sketch the home page',
      content: 'on paper',
      assigneeId: null,
    });

    const within = await api()
      .patch(`/api/v1/projects/${p.id}/tasks/${task.id}/move`)
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ toColumnId: todo, index: 1 });
    expect(within.status).toBe(200);
    expect(taskIdsByColumn(within.body)[0]).toEqual([second.id, task.id]);
    const across = await api()
      .patch(`/api/v1/projects/${p.id}/tasks/${task.id}/move`)
      .set(bearer(owner.token))
      .set(WAIT)
      .send({ toColumnId: doing, index: 0 });
    expect(across.status).toBe(200);
    expect(taskIdsByColumn(across.body).slice(0, 2)).toEqual([[second.id], [task.id]]);
    expect(across.body.columns[1].tasks[0].columnId).toBe(doing);

    const destroyed = await api()
      .delete(`/api/v1/projects/${p.id}/tasks/${second.id}`)
      .set(bearer(owner.token))
      .set(WAIT);
    expect(destroyed.status).toBe(200);
    expect(destroyed.body.taskCount).toBe(1);
    expect(taskIdsByColumn(destroyed.body)[0]).toEqual([]);
    const third = (await addTask(owner, p, 0, 'Ship')).columns[0]!.tasks[0]!;
    expect(third.key).toBe('DP-3');
  });

  test('Idempotency-Key: a retried task creation makes one task', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const key = `task-${newId()}`;
    const url = `/api/v1/projects/${p.id}/columns/${p.columns[0]!.id}/tasks`;
    const first = await api()
      .post(url)
      .set(bearer(owner.token))
      .set('Idempotency-Key', key)
      .send({ title: 'Once' });
    const again = await api()
      .post(url)
      .set(bearer(owner.token))
      .set('Idempotency-Key', key)
      .set(WAIT)
      .send({ title: 'Once' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(201);
    expect(again.headers.location).toBe(`/api/v1/projects/${p.id}/tasks/${first.body.id}`);
    expect(again.body.columns[0].tasks.map((t: { title: string }) => t.title)).toEqual(['Once']);
  });
});

describe('access', () => {
  test('a personal project is its owner’s: others get 404 for reads and writes alike', async () => {
    const owner = await signUp();
    const stranger = await signUp();
    const p = await createProject(owner);
    const before = await commandCount(sys);
    const as = (r: request.Test) => r.set(bearer(stranger.token));
    for (const res of [
      await as(api().get(`/api/v1/projects/${p.id}`)),
      await as(api().patch(`/api/v1/projects/${p.id}`)).send({ name: 'Mine now' }),
      await as(api().delete(`/api/v1/projects/${p.id}`)),
      await as(api().post(`/api/v1/projects/${p.id}/columns`)).send({ title: 'x' }),
      await as(api().post(`/api/v1/projects/${p.id}/columns/${p.columns[0]!.id}/tasks`)).send({ title: 'x' }),
      await as(api().get(`/api/v1/projects/${p.id}/live`)),
    ]) {
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const list = await as(api().get('/api/v1/projects'));
    expect(list.body.items).toEqual([]);
    expect(await commandCount(sys)).toBe(before);
  });

  test('a team project: members read; administrators and editors write; commenters and viewers get 403', async () => {
    const admin = await signUp();
    const editor = await signUp();
    const commenter = await signUp();
    const viewer = await signUp();
    const outsider = await signUp();
    const { teamId } = await teamWith(admin, [
      [editor, 'editor'],
      [commenter, 'commenter'],
      [viewer, 'viewer'],
    ]);
    const p = await createProject(editor, { name: 'Team board', teamId });
    expect(p).toMatchObject({ teamId, ownerId: editor.user.id, role: 'editor' });

    for (const [who, role] of [
      [admin, 'administrator'],
      [editor, 'editor'],
      [commenter, 'commenter'],
      [viewer, 'viewer'],
    ] as const) {
      const res = await api().get(`/api/v1/projects/${p.id}`).set(bearer(who.token));
      expect(res.status).toBe(200);
      expect(res.body.role).toBe(role);
    }
    expect((await api().get(`/api/v1/projects/${p.id}`).set(bearer(outsider.token))).status).toBe(404);

    expect((await addTask(admin, p)).taskCount).toBe(1);
    expect((await addTask(editor, p)).taskCount).toBe(2);
    const before = await commandCount(sys);
    for (const who of [commenter, viewer]) {
      const res = await api()
        .post(`/api/v1/projects/${p.id}/columns/${p.columns[0]!.id}/tasks`)
        .set(bearer(who.token))
        .send({ title: 'Not allowed' });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect((await api().delete(`/api/v1/projects/${p.id}`).set(bearer(who.token))).status).toBe(403);
    }
    expect(
      (await api().patch(`/api/v1/projects/${p.id}`).set(bearer(outsider.token)).send({ name: 'x' })).status,
    ).toBe(404);

    // a team project needs a writer of that team
    const asViewer = await api()
      .post('/api/v1/projects')
      .set(bearer(viewer.token))
      .send({ name: 'Sneaky', teamId });
    expect(asViewer.status).toBe(403);
    const asOutsider = await api()
      .post('/api/v1/projects')
      .set(bearer(outsider.token))
      .send({ name: 'Sneaky', teamId });
    expect(asOutsider.status).toBe(422);
    expect(asOutsider.body.errors[0].path).toBe('body.teamId');
    expect(await commandCount(sys)).toBe(before);
  });

  test('removing a member removes their access at once; a new role applies at once', async () => {
    const admin = await signUp();
    const editor = await signUp();
    const viewer = await signUp();
    const { teamId, memberships } = await teamWith(admin, [
      [editor, 'editor'],
      [viewer, 'viewer'],
    ]);
    const p = await createProject(admin, { teamId });
    expect((await api().get(`/api/v1/projects/${p.id}`).set(bearer(editor.token))).status).toBe(200);

    const removed = await identity()
      .delete(`/api/v1/teams/${teamId}/memberships/${memberships.get(editor.user.id)}`)
      .set(bearer(admin.token))
      .set(WAIT);
    expect(removed.status).toBe(204);
    await eventually(async () => {
      const res = await api().get(`/api/v1/projects/${p.id}`).set(bearer(editor.token));
      return res.status === 404 ? true : undefined;
    }, 3_000);
    const write = await api()
      .post(`/api/v1/projects/${p.id}/columns`)
      .set(bearer(editor.token))
      .send({ title: 'Too late' });
    expect(write.status).toBe(404);
    expect((await api().get('/api/v1/projects').set(bearer(editor.token))).body.items).toEqual([]);

    const promoted = await identity()
      .patch(`/api/v1/teams/${teamId}/memberships/${memberships.get(viewer.user.id)}`)
      .set(bearer(admin.token))
      .set(WAIT)
      .send({ role: 'editor' });
    expect(promoted.status).toBe(200);
    await eventually(async () => {
      const res = await api().get(`/api/v1/projects/${p.id}`).set(bearer(viewer.token));
      return res.body.role === 'editor' ? true : undefined;
    }, 3_000);
    expect((await addTask(viewer, p)).taskCount).toBe(1);
  });
});

describe('consistency under concurrency', () => {
  test('twenty clients moving tasks at once: each move applied on the state it was decided on', async () => {
    const owner = await signUp();
    const p = await createProject(owner, { prefix: 'MV' });
    // twelve tasks added at once get twelve distinct keys
    const added = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api()
          .post(`/api/v1/projects/${p.id}/columns/${p.columns[i % 4]!.id}/tasks`)
          .set(bearer(owner.token))
          .set(WAIT)
          .send({ title: `Task ${i}` }),
      ),
    );
    expect(added.map((r) => r.status)).toEqual(Array(12).fill(201));
    const board = (await api().get(`/api/v1/projects/${p.id}`).set(bearer(owner.token))).body as Project;
    const tasks = board.columns.flatMap((c) => c.tasks);
    expect(tasks.map((t) => t.key).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `MV-${i + 1}`).sort(),
    );

    // moves to random places; some indexes are past the end when their turn comes
    const moves = Array.from({ length: 20 }, (_, i) => ({
      taskId: tasks[(i * 7) % tasks.length]!.id,
      toColumnId: p.columns[(i * 3) % 4]!.id,
      index: (i * 5) % 6,
    }));
    const results = await Promise.all(
      moves.map((m) =>
        api()
          .patch(`/api/v1/projects/${p.id}/tasks/${m.taskId}/move`)
          .set(bearer(owner.token))
          .set(WAIT)
          .send({ toColumnId: m.toColumnId, index: m.index }),
      ),
    );
    for (const r of results) {
      if (r.status !== 200) expect(r.body).toMatchObject({ status: 422, reason: 'IndexOutOfRange' });
    }
    const accepted = results.filter((r) => r.status === 200).length;
    expect(accepted).toBeGreaterThan(0);

    const view = (await api().get(`/api/v1/projects/${p.id}`).set(bearer(owner.token))).body as Project;
    const ids = view.columns.flatMap((c) => c.tasks.map((t) => t.id));
    expect(ids.sort()).toEqual(tasks.map((t) => t.id).sort());
    for (const c of view.columns) for (const t of c.tasks) expect(t.columnId).toBe(c.id);

    // every accepted move was decided on the state its predecessors left
    const stored = await eventsOf(p.id);
    const events = stored.map((s) => s.event);
    expect(events.filter((e) => e.type === 'TaskMoved')).toHaveLength(accepted);
    expect(
      events.filter((e) => e.type === 'CommandRejected' && e.data.reason === 'IndexOutOfRange'),
    ).toHaveLength(20 - accepted);
    let state: ProjectState = initialState();
    for (const e of events) {
      if (e.type === 'TaskMoved' && state.status === 'active') {
        const at = findTask(state, e.data.taskId)!;
        expect({ column: at.column.id, index: at.index }).toEqual({
          column: e.data.fromColumnId,
          index: e.data.fromIndex,
        });
      }
      state = evolve(state, e);
    }
    expect(state.status === 'active' && state.columns.map((c) => c.tasks)).toEqual(taskIdsByColumn(view));

    // and the view is what folding the events again gives
    const replayed = foldAll(projectsProjection, events as Envelope[]).get(PROJECTS, p.id) as ProjectDoc;
    const { role, version, ...rest } = view;
    expect(role).toBe('owner');
    expect(version).toBe(stored.filter((s) => s.event.type !== 'CommandRejected').pop()!.seq);
    expect({ ...replayed, version: undefined }).toEqual({ ...rest, version: undefined });
  });

  test('two editors renaming one task at once: both are kept, the later decision wins', async () => {
    const admin = await signUp();
    const one = await signUp();
    const two = await signUp();
    const { teamId } = await teamWith(admin, [
      [one, 'editor'],
      [two, 'editor'],
    ]);
    const p = await createProject(admin, { teamId });
    const task = (await addTask(admin, p)).columns[0]!.tasks[0]!;
    const rename = (who: User, title: string) =>
      api()
        .patch(`/api/v1/projects/${p.id}/tasks/${task.id}`)
        .set(bearer(who.token))
        .set(WAIT)
        .send({ title });
    const [a, b] = await Promise.all([rename(one, 'Title by one'), rename(two, 'Title by two')]);
    expect([a.status, b.status]).toEqual([200, 200]);

    const renames = (await eventsOf(p.id)).map((s) => s.event).filter((e) => e.type === 'TaskModified');
    expect(renames.map((e) => (e.data as { changes: { title: string } }).changes.title).sort()).toEqual([
      'Title by one',
      'Title by two',
    ]);
    const later = renames[1]!.data as { changes: { title: string } };
    const view = await api().get(`/api/v1/projects/${p.id}`).set(bearer(admin.token));
    expect(view.body.columns[0].tasks[0].title).toBe(later.changes.title);
    // whoever was decided later also saw their own title, or a later one, in the answer
    const answerOf = (r: request.Response) => r.body.columns[0].tasks[0].title;
    expect([answerOf(a), answerOf(b)]).toContain(later.changes.title);
  });

  test('a move to another project’s column, past the end, or of a task just destroyed is rejected with a reason', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const elsewhere = await createProject(owner);
    const withTask = await addTask(owner, p, 0);
    const task = withTask.columns[0]!.tasks[0]!;
    const move = (body: object, headers: Record<string, string> = WAIT) =>
      api()
        .patch(`/api/v1/projects/${p.id}/tasks/${task.id}/move`)
        .set(bearer(owner.token))
        .set(headers)
        .send(body);

    const foreign = await move({ toColumnId: elsewhere.columns[1]!.id, index: 0 });
    expect(foreign.status).toBe(422);
    expect(foreign.body).toMatchObject({
      reason: 'ColumnNotFound',
      type: 'urn:devpie:problem:ColumnNotFound',
    });
    const status = await api().get(foreign.headers.location!).set(bearer(owner.token));
    expect(status.body).toMatchObject({ type: 'MoveTask', status: 'rejected', reason: 'ColumnNotFound' });

    const queued = await move({ toColumnId: p.columns[1]!.id, index: 1 }, {});
    expect(queued.status).toBe(202);
    const later = await eventually(async () => {
      const r = await api().get(queued.headers.location!).set(bearer(owner.token));
      return r.body.status === 'pending' ? undefined : r.body;
    });
    expect(later).toMatchObject({
      status: 'rejected',
      reason: 'IndexOutOfRange',
      message: expect.any(String),
    });

    // the destroy is queued first; the move, right behind it on the same entity, finds no task
    const destroy = await api().delete(`/api/v1/projects/${p.id}/tasks/${task.id}`).set(bearer(owner.token));
    expect(destroy.status).toBe(202);
    const gone = await move({ toColumnId: p.columns[1]!.id, index: 0 });
    expect(gone.status).toBe(422);
    expect(gone.body.reason).toBe('TaskNotFound');
    expect((await api().get(gone.headers.location!).set(bearer(owner.token))).body).toMatchObject({
      status: 'rejected',
      reason: 'TaskNotFound',
    });
    const view = await api().get(`/api/v1/projects/${p.id}`).set(bearer(owner.token));
    expect(view.body.taskCount).toBe(0);
  });

  test('dropping the views and replaying EVENTS rebuilds identical rows', async () => {
    const replay = buildAggregator({
      messaging: sys.env.messaging,
      pool: projects.pool,
      projection: projectsProjection,
      logger: createLogger('replay', 'silent'),
      schema: sys.env.names.schema('projects_replay'),
      durable: 'projects-replay',
    });
    await replay.start();
    try {
      const info = await sys.env.messaging.jsm.streams.info(sys.env.names.stream('EVENTS'));
      await eventually(() =>
        replay.position >= info.state.last_seq && projects.aggregator.position >= info.state.last_seq
          ? true
          : undefined,
      );
      for (const table of ['projects', 'tasks', 'team_members']) {
        const rows = async (s: string) =>
          (await projects.pool.query(`SELECT id, doc, version FROM ${ident(s)}.${table} ORDER BY id`)).rows;
        const original = await rows(sys.env.names.schema('projects'));
        expect(original.length).toBeGreaterThan(0);
        expect(await rows(sys.env.names.schema('projects_replay'))).toEqual(original);
      }
    } finally {
      await replay.stop();
    }
  });
});

/** A Server-Sent Events client on fetch: reads one event (or comment) at a time. */
async function openLive(base: string, projectId: string, token: string) {
  const controller = new AbortController();
  const res = await fetch(`${base}/api/v1/projects/${projectId}/live`, {
    headers: bearer(token),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  /** The next block: `{event, data, id}` or `{comment}`; undefined once the stream ended. */
  async function next(timeoutMs = 5_000): Promise<Record<string, string> | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          const [name, ...value] = line.split(':');
          fields[name || 'comment'] = value.join(':').trim();
        }
        if ('retry' in fields) continue;
        return fields;
      }
      if (done) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no event in time')), Math.max(0, deadline - Date.now()));
      });
      const chunk = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (chunk.done) done = true;
      else buffer += decoder.decode(chunk.value, { stream: true });
    }
  }
  /** The next `event:` with its data parsed (heartbeats skipped); undefined once the stream ended. */
  async function nextEvent(
    timeoutMs?: number,
  ): Promise<{ event: string; id?: string; json: Record<string, unknown> & Project } | undefined> {
    for (;;) {
      const block = await next(timeoutMs);
      if (!block) return undefined;
      if (block.event) return { event: block.event, id: block.id, json: JSON.parse(block.data ?? 'null') };
    }
  }
  return {
    res,
    next,
    nextEvent,
    close: () => {
      controller.abort();
      reader.cancel().catch(() => undefined);
    },
  };
}

describe('live updates', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = projects.app.listen(0);
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('the current view at once, then a new one after each change; nothing left once the client goes', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const live = await openLive(base, p.id, owner.token);
    expect(live.res.status).toBe(200);
    expect(live.res.headers.get('content-type')).toContain('text/event-stream');
    const first = await live.nextEvent();
    expect(first).toMatchObject({ event: 'project', id: String(p.version) });
    expect(first!.json).toEqual(p);

    const changed = await addTask(owner, p, 2, 'Live task');
    const second = await live.nextEvent();
    expect(second).toMatchObject({ event: 'project', id: String(changed.version) });
    expect(second!.json.columns[2]!.tasks[0]!.title).toBe('Live task');
    await api().patch(`/api/v1/projects/${p.id}`).set(bearer(owner.token)).send({ name: 'Renamed live' });
    expect((await live.nextEvent())!.json.name).toBe('Renamed live');

    expect(projects.service.live.size).toBeGreaterThan(0);
    live.close();
    await eventually(() => (projects.service.live.size === 0 ? true : undefined));
    expect(projects.service.live.watchedRows).toBe(0);
  });

  test('access is checked: 401 without a token, 404 for a stranger', async () => {
    const owner = await signUp();
    const stranger = await signUp();
    const p = await createProject(owner);
    const anonymous = await fetch(`${base}/api/v1/projects/${p.id}/live`);
    expect(anonymous.status).toBe(401);
    const hidden = await fetch(`${base}/api/v1/projects/${p.id}/live`, { headers: bearer(stranger.token) });
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get('content-type')).toContain('application/problem+json');
  });

  test('a destroyed project ends its streams with `deleted`; a removed member’s with `revoked`', async () => {
    const admin = await signUp();
    const member = await signUp();
    const { teamId, memberships } = await teamWith(admin, [[member, 'viewer']]);
    const p = await createProject(admin, { teamId });
    const watching = await openLive(base, p.id, member.token);
    expect((await watching.nextEvent())!.event).toBe('project');
    await identity()
      .delete(`/api/v1/teams/${teamId}/memberships/${memberships.get(member.user.id)}`)
      .set(bearer(admin.token))
      .set(WAIT);
    expect(await watching.nextEvent()).toMatchObject({ event: 'revoked', json: { id: p.id } });
    expect(await watching.next()).toBeUndefined();

    const owned = await openLive(base, p.id, admin.token);
    expect((await owned.nextEvent())!.event).toBe('project');
    await api().delete(`/api/v1/projects/${p.id}`).set(bearer(admin.token));
    expect(await owned.nextEvent()).toMatchObject({ event: 'deleted', json: { id: p.id } });
    expect(await owned.next()).toBeUndefined();
  });

  test('heartbeats keep an idle stream open; stopping the app ends its streams', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const replica = await projects.replica({ SSE_HEARTBEAT_SECONDS: '0.1' });
    const other = replica.app.listen(0);
    await new Promise((r) => other.once('listening', r));
    try {
      const live = await openLive(
        `http://127.0.0.1:${(other.address() as AddressInfo).port}`,
        p.id,
        owner.token,
      );
      expect((await live.nextEvent())!.event).toBe('project');
      expect(await live.next(2_000)).toEqual({ comment: 'heartbeat' });
      expect(await live.next(2_000)).toEqual({ comment: 'heartbeat' });
      await replica.stop();
      for (let block = await live.next(); block; block = await live.next())
        expect(block.event).toBeUndefined();
      expect(replica.live.size).toBe(0);
    } finally {
      other.closeAllConnections();
      await new Promise((r) => other.close(r));
    }
  });
});

describe('bad input', () => {
  test('malformed bodies, wrong types, over-long fields and bad queries: 400 naming the field, nothing written', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const column = p.columns[0]!.id;
    const task = (await addTask(owner, p)).columns[0]!.tasks[0]!.id;
    const before = await commandCount(sys);
    const as = (r: request.Test) => r.set(bearer(owner.token)).set('Content-Type', 'application/json');
    const post = (url: string, body: unknown) => as(api().post(url)).send(body as object);
    const patch = (url: string, body: unknown) => as(api().patch(url)).send(body as object);
    const P = `/api/v1/projects/${p.id}`;
    const cases: [string, request.Test, string][] = [
      ['malformed JSON', post('/api/v1/projects', '{"name": '), 'body'],
      ['no name', post('/api/v1/projects', {}), 'body.name'],
      ['a blank name', post('/api/v1/projects', { name: '   ' }), 'body.name'],
      ['a name too long', post('/api/v1/projects', { name: 'n'.repeat(101) }), 'body.name'],
      ['a name of the wrong type', post('/api/v1/projects', { name: 7 }), 'body.name'],
      // Postgres stores no NUL: accepted, it would stop the aggregator on this event for good
      ['a name with a NUL', post('/api/v1/projects', { name: 'a\u0000b' }), 'body.name'],
      [
        'a description with a NUL',
        post('/api/v1/projects', { name: 'x', description: '\u0000' }),
        'body.description',
      ],
      ['a rename with a NUL', patch(P, { name: 'x\u0000' }), 'body.name'],
      ['a column title with a NUL', post(`${P}/columns`, { title: 'c\u0000' }), 'body.title'],
      ['a task title with a NUL', post(`${P}/columns/${column}/tasks`, { title: '\u0000t' }), 'body.title'],
      [
        'task content with a NUL',
        post(`${P}/columns/${column}/tasks`, { title: 'x', content: 'line\n\u0000' }),
        'body.content',
      ],
      ['a task edit with a NUL', patch(`${P}/tasks/${task}`, { content: '\u0000' }), 'body.content'],
      // nor a lone surrogate (JSON.stringify escapes it as \ud800, which jsonb refuses)
      ['a task title with a lone surrogate', patch(`${P}/tasks/${task}`, { title: 'x\ud800' }), 'body.title'],
      ['an unknown field', post('/api/v1/projects', { name: 'x', owner: 'me' }), 'body'],
      ['a bad prefix', post('/api/v1/projects', { name: 'x', prefix: '1AB' }), 'body.prefix'],
      ['a prefix too long', post('/api/v1/projects', { name: 'x', prefix: 'ABCDEFGHIJK' }), 'body.prefix'],
      ['a team id that is no id', post('/api/v1/projects', { name: 'x', teamId: 'team-1' }), 'body.teamId'],
      [
        'a description too long',
        post('/api/v1/projects', { name: 'x', description: 'd'.repeat(LIMITS.description + 1) }),
        'body.description',
      ],
      ['public as a string', post('/api/v1/projects', { name: 'x', public: 'yes' }), 'body.public'],
      ['an empty patch', patch(P, {}), 'body'],
      ['active as a string', patch(P, { active: 'no' }), 'body.active'],
      ['an empty column order', patch(P, { columnOrder: [] }), 'body.columnOrder'],
      ['a column order of non-ids', patch(P, { columnOrder: ['a'] }), 'body.columnOrder.0'],
      [
        'a column title too long',
        post(`${P}/columns`, { title: 't'.repeat(LIMITS.title + 1) }),
        'body.title',
      ],
      ['a column without title', post(`${P}/columns`, {}), 'body.title'],
      ['a column rename to blank', patch(`${P}/columns/${column}`, { title: '' }), 'body.title'],
      ['a task without title', post(`${P}/columns/${column}/tasks`, { content: 'x' }), 'body.title'],
      [
        'task content too long',
        post(`${P}/columns/${column}/tasks`, { title: 'x', content: 'c'.repeat(LIMITS.content + 1) }),
        'body.content',
      ],
      [
        'an assignee that is no id',
        post(`${P}/columns/${column}/tasks`, { title: 'x', assigneeId: 'me' }),
        'body.assigneeId',
      ],
      ['an empty task patch', patch(`${P}/tasks/${task}`, {}), 'body'],
      ['a task title too long', patch(`${P}/tasks/${task}`, { title: 't'.repeat(201) }), 'body.title'],
      ['a move without column', patch(`${P}/tasks/${task}/move`, { index: 0 }), 'body.toColumnId'],
      ['a negative index', patch(`${P}/tasks/${task}/move`, { toColumnId: column, index: -1 }), 'body.index'],
      [
        'a fractional index',
        patch(`${P}/tasks/${task}/move`, { toColumnId: column, index: 1.5 }),
        'body.index',
      ],
      [
        'an index as a string',
        patch(`${P}/tasks/${task}/move`, { toColumnId: column, index: '0' }),
        'body.index',
      ],
      [
        'an index over the task limit',
        patch(`${P}/tasks/${task}/move`, { toColumnId: column, index: LIMITS.tasks + 1 }),
        'body.index',
      ],
      ['a limit of 0', as(api().get('/api/v1/projects?limit=0')), 'query.limit'],
      ['a limit too high', as(api().get('/api/v1/projects?limit=101')), 'query.limit'],
      ['an unknown sort', as(api().get('/api/v1/projects?sort=size')), 'query.sort'],
      ['active not a boolean', as(api().get('/api/v1/projects?active=maybe')), 'query.active'],
      ['an unknown parameter', as(api().get('/api/v1/projects?owner=me')), 'query'],
      ['a cursor of nothing', as(api().get('/api/v1/projects?cursor=bm9wZQ')), 'query.cursor'],
    ];
    for (const [what, req, field] of cases) {
      const res = await req;
      expect({ what, status: res.status, type: res.headers['content-type'] }).toEqual({
        what,
        status: 400,
        type: expect.stringContaining('application/problem+json'),
      });
      expect({ what, paths: res.body.errors.map((e: { path: string }) => e.path) }).toEqual({
        what,
        paths: expect.arrayContaining([field]),
      });
    }
    expect(await commandCount(sys)).toBe(before);
  });

  test('unknown and malformed ids are 404, a body over the limit 413; nothing written', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const before = await commandCount(sys);
    const as = (r: request.Test) => r.set(bearer(owner.token));
    const cases: [string, request.Test, number][] = [
      ['an unknown project', as(api().get(`/api/v1/projects/${newId()}`)), 404],
      ['a project id that is no id', as(api().get('/api/v1/projects/not-a-uuid')), 404],
      [
        'a patch of an unknown project',
        as(api().patch(`/api/v1/projects/${newId()}`)).send({ name: 'x' }),
        404,
      ],
      [
        'a column in an unknown project',
        as(api().post(`/api/v1/projects/${newId()}/columns`)).send({ title: 'x' }),
        404,
      ],
      [
        'a column id that is no id',
        as(api().patch(`/api/v1/projects/${p.id}/columns/not-a-uuid`)).send({ title: 'x' }),
        404,
      ],
      [
        'a task in a column that is no id',
        as(api().post(`/api/v1/projects/${p.id}/columns/nope/tasks`)).send({ title: 'x' }),
        404,
      ],
      [
        'a task id that is no id',
        as(api().patch(`/api/v1/projects/${p.id}/tasks/nope`)).send({ title: 'x' }),
        404,
      ],
      ['deleting a task id that is no id', as(api().delete(`/api/v1/projects/${p.id}/tasks/nope`)), 404],
      ['a command id that is no id', as(api().get('/api/v1/commands/not-a-uuid')), 404],
      ['an unknown command', as(api().get(`/api/v1/commands/${newId()}`)), 404],
      ['an unknown route', as(api().get('/api/v1/nowhere')), 404],
      [
        'a body over the limit',
        as(api().post(`/api/v1/projects/${p.id}/columns`)).send({ title: 'x'.repeat(40_000) }),
        413,
      ],
    ];
    for (const [what, req, status] of cases) {
      const res = await req;
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(await commandCount(sys)).toBe(before);
  });

  test('an unknown task or column in a well-formed request is the component’s call: a recorded rejection', async () => {
    const owner = await signUp();
    const p = await createProject(owner);
    const ghost = newId();
    for (const [req, reason] of [
      [api().patch(`/api/v1/projects/${p.id}/tasks/${ghost}`).send({ title: 'x' }), 'TaskNotFound'],
      [api().post(`/api/v1/projects/${p.id}/columns/${ghost}/tasks`).send({ title: 'x' }), 'ColumnNotFound'],
      [api().delete(`/api/v1/projects/${p.id}/columns/${ghost}`), 'ColumnNotFound'],
    ] as const) {
      const res = await req.set(bearer(owner.token)).set(WAIT);
      expect(res.status).toBe(422);
      expect(res.body.reason).toBe(reason);
    }
    const view = await api().get(`/api/v1/projects/${p.id}`).set(bearer(owner.token));
    expect(view.body.version).toBe(p.version);
  });
});

describe('tokens', () => {
  const sign = (claims: object, opts: jwt.SignOptions, key: KeyObject = sys.keys.privateKey) =>
    jwt.sign(claims, key, {
      algorithm: 'RS256',
      keyid: keyId(sys.keys.publicKey),
      issuer: sys.identityConfig.JWT_ISSUER,
      audience: sys.identityConfig.JWT_AUDIENCE,
      expiresIn: 60,
      ...opts,
    });

  test('a token Identity signed is accepted (control)', async () => {
    const subject = newId();
    const res = await api()
      .get('/api/v1/projects')
      .set(bearer(sign({}, { subject })));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });

  test.each([
    ['missing', () => ({})],
    ['not a bearer', () => ({ Authorization: 'Basic Zm9vOmJhcg==' })],
    ['garbage', () => bearer('not.a.token')],
    ['expired', () => bearer(sign({}, { subject: newId(), expiresIn: -60 }))],
    [
      'signed with another key',
      () =>
        bearer(
          sign({}, { subject: newId() }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
        ),
    ],
    [
      'alg none',
      () => {
        const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const p = Buffer.from(
          JSON.stringify({
            sub: newId(),
            iss: sys.identityConfig.JWT_ISSUER,
            aud: sys.identityConfig.JWT_AUDIENCE,
            exp: 9e9,
          }),
        ).toString('base64url');
        return bearer(`${h}.${p}.`);
      },
    ],
    ['another issuer', () => bearer(sign({}, { subject: newId(), issuer: 'https://evil.example/' }))],
    ['another audience', () => bearer(sign({}, { subject: newId(), audience: 'someone-else' }))],
    ['no subject', () => bearer(sign({}, {}))],
  ])('%s → 401 on reads and writes, nothing written', async (_what, headers) => {
    const before = await commandCount(sys);
    for (const req of [
      api().get('/api/v1/projects'),
      api().post('/api/v1/projects').send({ name: 'x' }),
      api().get(`/api/v1/projects/${newId()}/live`),
    ]) {
      const res = await req.set(headers());
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(await commandCount(sys)).toBe(before);
  });
});
