/**
 * `npm start` with the machine's NATS and PostgreSQL (NATS_URL, DATABASE_URL given) in a private
 * namespace, from a temporary directory: seed, read back, replay an aggregator while writes go on,
 * stop, start again and find everything as it was.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openTestEnv, TEST_DATABASE_URL, TEST_NATS_URL, type TestEnv } from '@devpie/client-events/testing';
import { api, devpie, freeOffset, launch, readBack, seedCommand, tempDir, type Launched } from './harness';

let env: TestEnv;
let tmp: ReturnType<typeof tempDir>;
let running: Launched | undefined;
beforeAll(async () => {
  env = await openTestEnv();
  tmp = tempDir();
});
afterAll(async () => {
  await running?.stop().catch(() => undefined);
  await env.close();
  tmp.remove();
});

test('npm start runs the system; the seed shows at once; data survives a restart and a replay', async () => {
  const offset = await freeOffset();
  const vars: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: TEST_NATS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    NAMESPACE: env.names.namespace,
    PORT_OFFSET: String(offset),
    SCRYPT_N: '1024',
    LOG_LEVEL: 'warn',
  };

  running = launch(tmp.dir, vars);
  await running.waitFor(/Stop with Ctrl-C/, 90_000);
  expect(running.output.join('\n')).toMatch(/devpie is up: 9 services in [\d.]+ s\n/);
  expect(running.output.join('\n')).toContain(`identity    http://localhost:${4000 + offset}/api/v1`);
  expect(existsSync(path.join(tmp.dir, '.data', 'jwt', 'private.pem'))).toBe(true);

  const seeded = await seedCommand(vars, tmp.dir);
  expect(seeded.out).toContain('created Website Redesign: 5 tasks, 3 moved');
  expect(seeded.code).toBe(0);
  const before = await readBack(offset);
  expect(before.teams).toEqual(['Demo Studio']);
  expect(before.projects.map((p) => p.name)).toEqual(['Mobile App MVP', 'Website Redesign']);
  const site = before.projects.find((p) => p.name === 'Website Redesign')!;
  expect(site.columns).toEqual([
    { title: 'To Do', tasks: ['Build the pages', 'Launch checklist'] },
    { title: 'In Progress', tasks: ['Visual design'] },
    { title: 'Review', tasks: ['Wireframes'] },
    { title: 'Done', tasks: ['Interview the client'] },
  ]);
  expect(site.estimate).toMatchObject({
    lines: 5,
    totals: { estimated: 5, expectedHours: '48.83' },
    cost: { currency: 'EUR', expected: { amount: '4639.17' } },
  });
  // a second seed finds everything in place
  expect((await seedCommand(vars, tmp.dir)).out).toContain('Website Redesign exists (5 tasks)');

  await running.stop();
  expect(running.output.join('\n')).not.toMatch(/stopping (NATS|PostgreSQL)/); // given servers are left alone
  running = launch(tmp.dir, vars);
  await running.waitFor(/Stop with Ctrl-C/, 90_000);
  expect(await readBack(offset)).toMatchObject({ ...before, token: expect.any(String) });

  // devpie replay projects while the demo user keeps editing
  const projects = `http://localhost:${4020 + offset}/api/v1/projects/${site.id}`;
  let stopWriting = false;
  let last = -1;
  const writer = (async () => {
    for (let i = 0; !stopWriting; i++) {
      const r = await api(projects, {
        method: 'PATCH',
        token: before.token,
        body: { description: `revision ${i}` },
      });
      if (r.status !== 200) throw new Error(`write ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      last = i;
    }
  })();
  const replay = await devpie(['replay', 'projects', '--json'], vars);
  stopWriting = true;
  await writer;
  expect(replay.code).toBe(0);
  const result = JSON.parse(replay.out) as { schema: string; oldSchema: string; position: number };
  expect(result.schema).toBe(env.names.schema('projects'));
  expect(last).toBeGreaterThan(0);
  const after = await readBack(offset);
  const edited = after.projects.find((p) => p.id === site.id)!;
  expect(edited.description).toBe(`revision ${last}`);
  expect({ ...edited, description: site.description }).toEqual(site);

  const status = JSON.parse((await devpie(['status', '--json'], vars)).out) as {
    checkpoints: { schema: string; role: string }[];
  };
  expect(status.checkpoints).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ schema: env.names.schema('projects'), role: 'live' }),
      expect.objectContaining({ schema: result.oldSchema, role: 'old' }),
    ]),
  );
  expect((await devpie(['replay', 'drop-old', result.oldSchema], vars)).code).toBe(0);

  await running.stop();
  running = undefined;
}, 180_000);
