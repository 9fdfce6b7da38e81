/**
 * `npm start` with no DATABASE_URL and nothing at NATS_URL (a free loopback port): the launcher
 * starts `nats-server -js` and the embedded PostgreSQL itself, keeps their data under ./.data of
 * the temporary directory it runs from, and stops both after the services. A restart finds the data.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { natsServerEnv } from '../src/nats';
import { alive } from '../src/net';
import { freeOffset, freePort, launch, readBack, seedCommand, tempDir, type Launched } from './harness';

let tmp: ReturnType<typeof tempDir>;
let running: Launched | undefined;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(async () => {
  await running?.stop().catch(() => undefined);
  tmp.remove();
});

test('without servers given, npm start runs its own nats-server and embedded PostgreSQL; data survives', async () => {
  const offset = await freeOffset();
  const natsPort = await freePort();
  const vars: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: `nats://127.0.0.1:${natsPort}`,
    PORT_OFFSET: String(offset),
    SCRYPT_N: '1024',
    LOG_LEVEL: 'warn',
  };
  delete vars.DATABASE_URL;
  delete vars.NAMESPACE;
  const data = path.join(tmp.dir, '.data');

  running = launch(tmp.dir, vars);
  await running.waitFor(/Stop with Ctrl-C/, 120_000);
  const banner = running.output.join('\n');
  expect(banner).toMatch(/devpie is up: 9 services/);
  expect(banner).toContain(
    `NATS        nats://127.0.0.1:${natsPort} (started by this launcher, store ${data}/nats)`,
  );
  expect(banner).toMatch(
    new RegExp(
      `PostgreSQL  postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/postgres \\(embedded, data ${data}/postgres\\)`,
    ),
  );
  expect(existsSync(path.join(data, 'postgres', 'PG_VERSION'))).toBe(true);
  expect(statSync(path.join(data, 'nats', 'jetstream')).isDirectory()).toBe(true);
  const natsPid = Number(readFileSync(path.join(data, 'nats', 'nats-server.pid'), 'utf8'));
  // one Go processor on a small machine (natsServerEnv), the environment's choice otherwise
  const natsEnv = readFileSync(`/proc/${natsPid}/environ`, 'utf8').split('\0');
  const expected = natsServerEnv(process.env, availableParallelism()).GOMAXPROCS;
  expect(natsEnv.find((v) => v.startsWith('GOMAXPROCS='))).toBe(expected && `GOMAXPROCS=${expected}`);
  const pgPid = Number(readFileSync(path.join(data, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

  const seeded = await seedCommand(vars, tmp.dir);
  expect(seeded.code).toBe(0);
  expect(seeded.out).toContain('Website Redesign: 48.83 h expected');
  const before = await readBack(offset);
  expect(before.projects).toHaveLength(2);

  await running.stop();
  const stopped = running.output.join('\n');
  expect(stopped).toContain('stopping PostgreSQL');
  expect(stopped).toContain('stopping NATS');
  expect(alive(natsPid)).toBe(false);
  expect(alive(pgPid)).toBe(false);
  expect(existsSync(path.join(data, 'postgres', 'postmaster.pid'))).toBe(false);

  running = launch(tmp.dir, vars);
  await running.waitFor(/Stop with Ctrl-C/, 120_000);
  expect(running.output.join('\n')).not.toContain('initialising a new cluster');
  expect(await readBack(offset)).toMatchObject({ ...before, token: expect.any(String) });
  await running.stop();
  running = undefined;
}, 180_000);
