/**
 * The bundles `npm run build` makes are what the production image runs: they must start from
 * dist/ with node alone, refuse a bad variable by name, serve their probes against the real
 * servers and stop cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectMessaging,
  createPool,
  deleteStreams,
  ident,
  Names,
  streamDefinitions,
} from '@devpie/client-events';
import { TEST_DATABASE_URL, TEST_NATS_URL, eventually } from '@devpie/client-events/testing';
import { bundle, ROOT, type Bundle } from './bundle';
import { SERVICES } from './services';

const present = SERVICES.filter((s) => existsSync(join(ROOT, s.entry)));
const outdir = join(ROOT, 'dist', `test-${randomBytes(4).toString('hex')}`);
const scratch = mkdtempSync(join(tmpdir(), 'devpie-bundles-'));
const names = new Names(`t${randomBytes(5).toString('hex')}`);
const children: ChildProcess[] = [];
let bundles: Bundle[];

beforeAll(async () => {
  bundles = await bundle({ services: present, outdir });
}, 30_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(outdir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
  const messaging = await connectMessaging({ servers: TEST_NATS_URL, name: 'bundle-test', names });
  await deleteStreams(messaging);
  await messaging.nc.close();
  const pool = createPool(TEST_DATABASE_URL, 1);
  const { rows } = await pool.query<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
    [`${names.namespace}\\_%`],
  );
  for (const r of rows) await pool.query(`DROP SCHEMA ${ident(r.nspname)} CASCADE`);
  await pool.end();
});

const file = (service: string) => join(outdir, `${service}.js`);

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string; stdout: string }>;
}

function start(service: string, env: Record<string, string>, args: string[] = []): Run {
  const child = spawn(process.execPath, ['--enable-source-maps', file(service), ...args], {
    cwd: scratch,
    env: {
      PATH: process.env.PATH,
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: TEST_DATABASE_URL,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr, stdout })),
  );
  return { child, exited };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const status = async (url: string): Promise<number | undefined> => {
  const res = await fetch(url).catch(() => undefined);
  return res?.status;
};

test('every service whose composition root exists bundles, workspace code inside, npm packages outside', () => {
  expect(bundles.map((b) => b.service.name)).toEqual(present.map((s) => s.name));
  for (const b of bundles) {
    expect(existsSync(b.file)).toBe(true);
    expect(existsSync(`${b.file}.map`)).toBe(true);
    expect(b.packages).toContain('@nats-io/jetstream');
    expect(b.packages.some((p) => p.startsWith('@devpie/'))).toBe(false);
  }
});

for (const s of SERVICES.filter((x) => !present.includes(x))) {
  test.todo(`${s.name}: bundle it once ${s.entry} exists`);
}

test('a bundle refuses a bad variable, naming it, with exit code 1', async () => {
  const aggregator = await start('identity-aggregator', { STREAM_REPLICAS: '9' }).exited;
  expect(aggregator.code).toBe(1);
  expect(aggregator.stderr).toMatch(/STREAM_REPLICAS/);
  const app = await start('identity-app', { PORT: 'eighty' }).exited;
  expect(app.code).toBe(1);
  expect(app.stderr).toMatch(/PORT/);
});

test('the setup bundle creates the streams and view schemas; with --wait it then returns at once', async () => {
  const env = { NAMESPACE: names.namespace, STREAM_REPLICAS: '1' };
  const setup = await start('setup', env).exited;
  expect(setup.stderr).toBe('');
  expect(setup.code).toBe(0);
  const messaging = await connectMessaging({ servers: TEST_NATS_URL, name: 'bundle-test', names });
  for (const def of streamDefinitions(names, { replicas: 1 })) {
    expect((await messaging.jsm.streams.info(def.name!)).config.num_replicas).toBe(1);
  }
  await messaging.nc.close();
  const pool = createPool(TEST_DATABASE_URL, 1);
  const { rows } = await pool.query<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
    [`${names.namespace}\\_%`],
  );
  await pool.end();
  expect(rows.map((r) => r.nspname).sort()).toEqual(
    ['estimation', 'identity', 'projects'].map((s) => names.schema(s)).sort(),
  );
  expect((await start('setup', env, ['--wait']).exited).code).toBe(0);
}, 20_000);

test('--wait gives up, naming what is missing, when setup has not run', async () => {
  const other = new Names(`t${randomBytes(5).toString('hex')}`);
  const waited = await start('setup', { NAMESPACE: other.namespace, SETUP_TIMEOUT_SECONDS: '1' }, ['--wait'])
    .exited;
  expect(waited.code).toBe(1);
  expect(waited.stderr).toMatch(new RegExp(`missing stream ${other.stream('EVENTS')}`));
}, 15_000);

test('the component and app bundles serve their probes on the real servers and stop on SIGTERM', async () => {
  const opsPort = await freePort();
  const appPort = await freePort();
  const component = start('identity-component', { NAMESPACE: names.namespace, OPS_PORT: String(opsPort) });
  const app = start('identity-app', {
    NAMESPACE: names.namespace,
    PORT: String(appPort),
    JWT_PRIVATE_KEY_FILE: join(scratch, 'jwt', 'private.pem'),
  });
  await eventually(async () =>
    (await status(`http://127.0.0.1:${opsPort}/readyz`)) === 200 ? true : undefined,
  );
  expect(await status(`http://127.0.0.1:${opsPort}/healthz`)).toBe(200);
  await eventually(async () =>
    (await status(`http://127.0.0.1:${appPort}/healthz`)) === 200 ? true : undefined,
  );
  expect(await status(`http://127.0.0.1:${appPort}/readyz`)).toBe(200);
  expect(await status(`http://127.0.0.1:${appPort}/.well-known/jwks.json`)).toBe(200);
  component.child.kill('SIGTERM');
  app.child.kill('SIGTERM');
  const [c, a] = await Promise.all([component.exited, app.exited]);
  expect([c.code, a.code]).toEqual([0, 0]);
}, 20_000);
