/**
 * The distributed engine for real, as k8s/nats.yaml runs it: three nats-server processes on
 * loopback, routed to each other, each with its own store and server_name; the streams with three
 * replicas; a component and an aggregator (the counter fixture) working through it. One server is
 * killed (SIGKILL, like a node lost) in the middle of a stream of commands: no accepted command is
 * lost, none is applied twice, the view is right. Then the server comes back and catches up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildAggregator,
  buildComponent,
  connectMessaging,
  createLogger,
  createPool,
  ensureStreams,
  envelope,
  ident,
  Names,
  newId,
  publishCommand,
  type Aggregator,
  type Messaging,
  type Pool,
} from '@devpie/client-events';
import { eventually, TEST_DATABASE_URL } from '@devpie/client-events/testing';
import {
  counterCommands,
  counterDecider,
  counterProjection,
} from '../../common-events/test/fixtures/counter';

const BIN =
  process.env.NATS_SERVER_BIN ??
  (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');
const logger = createLogger('cluster-test', process.env.TEST_LOG ?? 'silent');

interface Server {
  name: string;
  client: number;
  cluster: number;
  monitor: number;
  dir: string;
  process?: ChildProcess;
}

const root = mkdtempSync(join(tmpdir(), 'devpie-nats-cluster-'));
const names = new Names(`t${randomBytes(5).toString('hex')}`);
let servers: Server[] = [];
let messaging: Messaging | undefined;
let pool: Pool | undefined;
let aggregator: Aggregator | undefined;
let component: { start(): Promise<void>; stop(): Promise<void> } | undefined;

async function freePorts(n: number): Promise<number[]> {
  const held = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return s;
    }),
  );
  const ports = held.map((s) => (s.address() as { port: number }).port);
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** The same shape as k8s/nats.yaml's nats.conf, on loopback ports. */
function configure(s: Server, all: Server[]): string {
  const file = join(s.dir, 'nats.conf');
  writeFileSync(
    file,
    [
      `server_name: ${s.name}`,
      `listen: 127.0.0.1:${s.client}`,
      `http: 127.0.0.1:${s.monitor}`,
      `jetstream { store_dir: "${join(s.dir, 'store')}" }`,
      'cluster {',
      '  name: devpie-test',
      `  listen: 127.0.0.1:${s.cluster}`,
      `  routes: [${all.map((o) => `nats://127.0.0.1:${o.cluster}`).join(', ')}]`,
      '}',
    ].join('\n'),
  );
  return file;
}

function startServer(s: Server): void {
  s.process = spawn(BIN, ['-c', join(s.dir, 'nats.conf'), '-l', join(s.dir, 'server.log')], {
    stdio: 'ignore',
  });
}

async function healthy(s: Server, query: string): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${s.monitor}/healthz?${query}`).catch(() => undefined);
  return res?.status === 200;
}

const logTail = (s: Server) => {
  const file = join(s.dir, 'server.log');
  const tail = existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-8).join('\n') : '(no log)';
  return `--- ${s.name}:\n${tail}`;
};

beforeAll(async () => {
  const ports = await freePorts(9);
  servers = [0, 1, 2].map((i) => ({
    name: `nats-${i}`,
    client: ports[i * 3]!,
    cluster: ports[i * 3 + 1]!,
    monitor: ports[i * 3 + 2]!,
    dir: join(root, `nats-${i}`),
  }));
  for (const s of servers) {
    mkdirSync(s.dir, { recursive: true });
    configure(s, servers);
    startServer(s);
  }
  // healthy: JetStream on and in contact with an elected meta leader (a connection made before that
  // fails its JetStream handshake)
  await eventually(
    async () => ((await Promise.all(servers.map((s) => healthy(s, '')))).every(Boolean) ? true : undefined),
    20_000,
  );
  messaging = await connectMessaging({
    servers: servers.map((s) => `nats://127.0.0.1:${s.client}`),
    name: 'cluster-test',
    names,
  });
  // the first stream waits for the cluster to elect its JetStream meta leader
  await eventually(async () => {
    await ensureStreams(messaging!, { replicas: 3 });
    return true;
  }, 20_000);
  pool = createPool(TEST_DATABASE_URL, 5);
}, 45_000);

afterAll(async () => {
  await component?.stop().catch(() => undefined);
  await aggregator?.stop().catch(() => undefined);
  await messaging?.nc.close().catch(() => undefined);
  for (const s of servers) s.process?.kill('SIGKILL');
  if (pool) {
    const { rows } = await pool.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`${names.namespace}\\_%`],
    );
    for (const r of rows) await pool.query(`DROP SCHEMA ${ident(r.nspname)} CASCADE`);
    await pool.end();
  }
  rmSync(root, { recursive: true, force: true });
});

/** Publishes until JetStream acknowledges (the same id each time: a retry is deduplicated). */
async function publishUntilAccepted(command: ReturnType<typeof increment>): Promise<number> {
  let attempts = 0;
  for (;;) {
    try {
      await publishCommand(messaging!, counterCommands, command);
      return attempts;
    } catch (err) {
      if (++attempts > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Where things stand, for a failure message: streams, consumers, the view. */
async function diagnose(): Promise<string> {
  const out: string[] = [];
  for (const stream of ['COMMANDS', 'EVENTS', 'PARKED'] as const) {
    const name = names.stream(stream);
    const info = await messaging!.jsm.streams.info(name).catch((e: unknown) => String(e));
    if (typeof info === 'string') {
      out.push(`${name}: ${info}`);
      continue;
    }
    out.push(`${name}: ${info.state.messages} messages, leader ${info.cluster?.leader}`);
    const consumers = await messaging!.jsm.consumers
      .list(name)
      .next()
      .catch(() => []);
    for (const c of consumers) {
      out.push(
        `  ${c.name}: pending ${c.num_pending}, ack pending ${c.num_ack_pending}, redelivered ${c.num_redelivered}, delivered ${c.delivered.stream_seq}, acked ${c.ack_floor.stream_seq}, leader ${c.cluster?.leader}`,
      );
    }
  }
  const { rows } = await pool!
    .query<{ n: string; applied: string }>(
      `SELECT count(*) AS n, sum((doc->>'applied')::int) AS applied FROM ${ident(names.schema('counters'))}.counters`,
    )
    .catch(() => ({ rows: [] }));
  out.push(`view: ${JSON.stringify(rows[0])}, aggregator position ${aggregator?.position}`);
  return out.join('\n');
}

/**
 * A stream's info, asked again until it is answered: a stream whose leader was on the lost server
 * answers nothing until its replicas elect another, and a request meanwhile times out (under the
 * full suite's load, once past nats.js's 5 s).
 */
const streamInfo = (stream: string) => eventually(() => messaging!.jsm.streams.info(stream), 30_000);

/** Starts a service, again until it starts, as a supervisor would restart one that failed to. */
const startUntilUp = (service: { start(): Promise<void> }) =>
  eventually(async () => {
    await service.start();
    return true;
  }, 30_000);

const increment = (projectId: string, by: number) =>
  envelope('Increment', { projectId, by }, { userId: 'u1' });

test('a server killed during a stream of commands loses no accepted command; restarted, it catches up', async () => {
  const streams = [names.stream('COMMANDS'), names.stream('EVENTS')];
  for (const stream of streams) {
    const info = await streamInfo(stream);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);
  }
  component = buildComponent({
    messaging: messaging!,
    decider: counterDecider,
    name: 'counter-component',
    logger,
  });
  aggregator = buildAggregator({
    messaging: messaging!,
    pool: pool!,
    projection: counterProjection,
    logger,
    ackWaitMs: 2000,
  });
  await startUntilUp(component);
  await startUntilUp(aggregator);

  const counters = Array.from({ length: 12 }, () => newId());
  const total = 480;
  const commands = Array.from({ length: total }, (_, i) =>
    increment(counters[i % counters.length]!, (i % 9) + 1),
  );
  const expected = new Map<string, { sum: number; applied: number }>();
  for (const c of commands) {
    const e = expected.get(c.data.projectId) ?? { sum: 0, applied: 0 };
    expected.set(c.data.projectId, { sum: e.sum + c.data.by, applied: e.applied + 1 });
  }

  // the victim: the server leading the EVENTS stream (the leader's loss is the hard case)
  const leader = (await streamInfo(names.stream('EVENTS'))).cluster!.leader!;
  const victim = servers.find((s) => s.name === leader)!;
  let accepted = 0;
  let retried = 0;
  const inFlight = 16;
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const command = commands[next++]!;
        if (next === Math.floor(total / 3)) {
          victim.process!.kill('SIGKILL');
          logger.info({ victim: victim.name }, 'killed');
        }
        retried += await publishUntilAccepted(command);
        accepted++;
      }
    }),
  );
  expect(accepted).toBe(total);
  logger.info({ retried }, 'all commands accepted');

  // every accepted command decided once and folded once: sums and counts per counter are exact
  const debug = process.env.TEST_LOG
    ? setInterval(
        () =>
          void diagnose().then(
            (d) => logger.info(d),
            () => undefined,
          ),
        3000,
      )
    : undefined;
  const view = await eventually(async () => {
    const { rows } = await pool!.query<{ id: string; doc: { sum: number; applied: number } }>(
      `SELECT id, doc FROM ${ident(names.schema('counters'))}.counters`,
    );
    const got = new Map(rows.map((r) => [r.id, { sum: r.doc.sum, applied: r.doc.applied }]));
    const done = [...expected].every(([id, e]) => (got.get(id)?.applied ?? 0) >= e.applied);
    return done ? got : undefined;
  }, 45_000).catch(async (err: unknown) => {
    throw new Error(
      `${String(err)}\n--- ${victim.name} was killed\n${await diagnose()}\n${servers.map(logTail).join('\n')}`,
    );
  });
  clearInterval(debug);
  logger.info('view complete');
  expect(view).toEqual(expected);
  expect((await streamInfo(names.stream('PARKED'))).state.messages).toBe(0);
  const events = await streamInfo(names.stream('EVENTS'));
  expect(events.state.messages).toBe(total); // one event per command: nothing lost, nothing doubled
  logger.info({ victim: victim.name, retried }, 'publishes retried during the failover');

  // the killed server comes back with its store and catches up with the other two (under the
  // full suite's load this once took more than 20 s: the wait is the view's, with what it saw)
  startServer(victim);
  for (const stream of streams) {
    let cluster: unknown;
    await eventually(async () => {
      const info = await messaging!.jsm.streams.info(stream);
      cluster = info.cluster;
      const replicas = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((r) => r.name)];
      const back = info.cluster?.replicas?.find((r) => r.name === victim.name);
      return replicas.length === 3 && (info.cluster?.leader === victim.name || (back?.current && !back.lag))
        ? true
        : undefined;
    }, 45_000).catch((err: unknown) => {
      throw new Error(
        `${String(err)}\n--- ${victim.name} restarted; ${stream}: ${JSON.stringify(cluster)}\n${logTail(victim)}`,
      );
    });
  }
  // and its own copy of EVENTS, as its monitoring endpoint reports it, holds every event
  const own = await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${victim.monitor}/jsz?accounts=true&streams=true`);
    const jsz = (await res.json()) as {
      account_details?: {
        stream_detail?: { name: string; state: { messages: number; last_seq: number } }[];
      }[];
    };
    const detail = jsz.account_details
      ?.flatMap((a) => a.stream_detail ?? [])
      .find((d) => d.name === names.stream('EVENTS'));
    return detail && detail.state.messages === total ? detail : undefined;
  }, 20_000);
  expect(own.state.last_seq).toBe(events.state.last_seq);
}, 120_000);
