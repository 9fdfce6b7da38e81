/**
 * The ceilings every benchmark is judged against, and the small helpers the benches share:
 * JetStream acked publish (one at a time, windowed, with msg-id + OCC), durable consume + ack,
 * ordered replay, Postgres jsonb upsert (batched and one row per transaction), and CPU
 * accounting per phase. Used by bench/runtime.ts and bench/main.ts (`npm run bench`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, StorageType } from '@nats-io/jetstream';
import { ident } from '@devpie/client-events';
import type { TestEnv } from '@devpie/client-events/testing/servers';

/** What the ceilings need to know of a bench's options. */
export interface CeilingOptions {
  window: number;
  sizes: { publishSerial: number; publishWindowed: number; upsertBatches: number; upsertSingle: number };
}
// ---------------------------------------------------------------------------------------------
// small helpers

export const MESSAGE_BYTES = 800;
export const UPSERT_BATCH = 500;
export const MiB = 1024 * 1024;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** An integer flag ≥ `min`, or `fallback` when absent. */
export function intFlag(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
}

/** Runs task(0..count-1) with exactly `window` in flight (fewer at the end). */
export async function windowed(count: number, window: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
}

/** mulberry32: a reproducible command mix for a given seed (ids stay fresh uuids). */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A JSON document of exactly `bytes` bytes (ASCII). */
export function paddedJson(fields: Record<string, unknown>, bytes: number): string {
  const bare = JSON.stringify({ ...fields, pad: '' });
  return JSON.stringify({ ...fields, pad: 'x'.repeat(Math.max(0, bytes - bare.length)) });
}

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting per phase (Linux /proc; approximate: exited processes are not counted)

export interface Ticks {
  /** Ticks of each nats-server and postgres process, by pid. */
  procs: Map<string, { comm: string; ticks: number }>;
  /** All cores, from /proc/stat: busy (steal included), steal, and everything. */
  busy: number;
  steal: number;
  total: number;
  /** Main-thread scheduler times (ns) of this process and its service children, by pid. */
  threads: Map<string, { runNs: number; waitNs: number }>;
}

export interface CpuMark extends Ticks {
  at: number;
  self: NodeJS.CpuUsage;
}

export const TICKS_PER_SECOND = 100; // CLK_TCK on Linux

/** The load generator's name in /proc (`comm`, bench/load.ts): its CPU is counted apart from the services'. */
export const LOAD_TITLE = 'devpie-load';

/**
 * A process's main thread: nanoseconds it ran on a CPU and waited in a run queue, ready to run
 * (/proc/<pid>/schedstat; undefined without it). One event loop that waits much is CPU-starved:
 * its queues grow whatever its own speed.
 */
export function threadSched(pid: number | string): { runNs: number; waitNs: number } | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { runNs: run!, waitNs: wait! } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The GOMAXPROCS each nats-server on this machine was started with, for the report (its Go runtime
 * spends more CPU with more processors than it needs: see tools/start/src/nats.ts): `unset`, a
 * value, or `unreadable` (another user's process).
 */
export function natsGoMaxProcs(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || processStat(pid)?.comm !== 'nats-server') continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      found.push(env.find((v) => v.startsWith('GOMAXPROCS='))?.slice('GOMAXPROCS='.length) ?? 'unset');
    } catch {
      found.push('unreadable');
    }
  }
  return found;
}

/** A process's name, parent and user + system CPU ticks, from /proc/<pid>/stat (undefined if gone). */
export function processStat(pid: number | string): { comm: string; ppid: number; ticks: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
  };
}

export function procTicks(): Ticks {
  const out: Ticks = { procs: new Map(), busy: 0, steal: 0, total: 0, threads: new Map() };
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    out.total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    out.busy = out.total - (cpu[3] ?? 0) - (cpu[4] ?? 0);
    out.steal = cpu[7] ?? 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = processStat(pid);
      if (!stat) continue;
      let comm = stat.comm;
      // the bench's own children: the services of the `processes` layout, the load generator
      if (comm !== 'nats-server' && comm !== 'postgres') {
        if (stat.ppid !== process.pid || pid === String(process.pid)) continue;
        comm = comm === LOAD_TITLE ? 'load' : 'services';
      }
      out.procs.set(pid, { comm, ticks: stat.ticks });
      if (comm === 'services') {
        const sched = threadSched(pid);
        if (sched) out.threads.set(pid, sched);
      }
    }
  } catch {
    // not Linux: CPU figures stay 0
  }
  return out;
}

export function cpuMark(): CpuMark {
  const ticks = procTicks();
  const self = threadSched(process.pid);
  if (self) ticks.threads.set(String(process.pid), self);
  return { at: performance.now(), self: process.cpuUsage(), ...ticks };
}

/** CPU seconds spent during a phase, by whom. */
export interface CpuSpent {
  wallS: number;
  benchS: number;
  /** The bench's child processes (services of the `processes` layout). */
  servicesS: number;
  /** The load generator's process (bench/load.ts). */
  loadS: number;
  natsS: number;
  postgresS: number;
  /** Core-seconds the machine had (wall × cores) and how many were busy, by any process. */
  machineS: number;
  busyS: number;
  /** Taken by the hypervisor. */
  stealS: number;
  /** Busy, but neither this process, nats-server, postgres nor steal: other load on the machine. */
  otherS: number;
  /**
   * The services' event loops (this process's main thread and each service process's): seconds
   * they ran, and seconds they were ready to run but waited for a CPU.
   */
  mainThreads: { runS: number; waitS: number };
}

export function cpuSince(mark: CpuMark): CpuSpent {
  const now = cpuMark();
  const self = process.cpuUsage(mark.self);
  const s = (ticks: number) => ticks / TICKS_PER_SECOND;
  // per process, so that a Postgres backend ending during the phase does not subtract its past
  const used = (comm: string) => {
    let ticks = 0;
    for (const [pid, p] of now.procs) {
      if (p.comm === comm) ticks += p.ticks - (mark.procs.get(pid)?.ticks ?? 0);
    }
    return ticks;
  };
  const spent = {
    wallS: (now.at - mark.at) / 1000,
    benchS: (self.user + self.system) / 1e6,
    servicesS: s(used('services')),
    loadS: s(used('load')),
    natsS: s(used('nats-server')),
    postgresS: s(used('postgres')),
    machineS: s(now.total - mark.total),
    busyS: s(now.busy - mark.busy),
    stealS: s(now.steal - mark.steal),
  };
  const known = spent.benchS + spent.servicesS + spent.loadS + spent.natsS + spent.postgresS + spent.stealS;
  const mainThreads = { runS: 0, waitS: 0 };
  for (const [pid, t] of now.threads) {
    const before = mark.threads.get(pid) ?? { runNs: 0, waitNs: 0 };
    mainThreads.runS += (t.runNs - before.runNs) / 1e9;
    mainThreads.waitS += (t.waitNs - before.waitNs) / 1e9;
  }
  return { ...spent, otherS: Math.max(0, spent.busyS - known), mainThreads };
}

/** Other load on the machine during a phase makes its figures unreliable: say so. */
export const noisy = (c: CpuSpent) => c.machineS > 0 && c.otherS > 0.1 * c.machineS;

export const cpuLine = (c: CpuSpent) =>
  (noisy(c) ? 'NOISY (other processes busy) — ' : '') +
  `CPU over ${fmt(c.wallS, 2)} s wall: bench ${fmt(c.benchS, 2)} s, ` +
  (c.servicesS > 0 ? `services ${fmt(c.servicesS, 2)} s, ` : '') +
  (c.loadS > 0 ? `load generator ${fmt(c.loadS, 2)} s, ` : '') +
  `nats-server ${fmt(c.natsS, 2)} s, ` +
  `postgres ${fmt(c.postgresS, 2)} s, steal ${fmt(c.stealS, 2)} s, other ${fmt(c.otherS, 2)} s; ` +
  `${fmt(c.busyS, 2)} of ${fmt(c.machineS, 2)} core-s busy (${os.cpus().length} cores)` +
  (c.mainThreads.runS > 0
    ? `; the services' event loops ran ${fmt(c.mainThreads.runS, 2)} s and waited ${fmt(c.mainThreads.waitS, 2)} s ` +
      `for a CPU (${fmt((100 * c.mainThreads.waitS) / (c.mainThreads.runS + c.mainThreads.waitS), 0)} % of their ready time)`
    : '');
// ---------------------------------------------------------------------------------------------
// 1. ceilings

export interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
}
export const rate = (count: number, s: number): Rate => ({ count, seconds: s, perSecond: count / s });

export interface Ceilings {
  messageBytes: number;
  publishSerial: Rate;
  publishWindowed: Rate;
  publishWindowedOcc: Rate;
  durableConsume: Rate;
  orderedReplay: Rate;
  upsertBatched: Rate;
  upsertSingle: Rate;
  /** This process's own speed: JSON round trips of an 800-byte message per second (the machine's speed varies). */
  jsonRoundTrips: Rate;
  cpu: CpuSpent;
}

export async function natsCeilings(env: TestEnv, opts: CeilingOptions, cleanups: (() => Promise<void>)[]) {
  const { jsm, js } = env.messaging;
  const names = env.names;
  const stream = `${names.namespace.toUpperCase()}_BENCH`;
  const root = `${names.root}_bench`;
  await jsm.streams.add({
    name: stream,
    subjects: [`${root}.>`],
    storage: StorageType.File,
    num_replicas: 1,
    duplicate_window: 2 * 60 * 1_000_000_000,
  });
  cleanups.push(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
  });
  const body = Buffer.from(paddedJson({ id: randomUUID(), type: 'BenchMessage' }, MESSAGE_BYTES));
  const subjects = Array.from({ length: 200 }, (_, i) => `${root}.s${i}`);

  let t = performance.now();
  for (let i = 0; i < opts.sizes.publishSerial; i++) await js.publish(subjects[i % 200]!, body);
  const publishSerial = rate(opts.sizes.publishSerial, seconds(t));

  t = performance.now();
  await windowed(opts.sizes.publishWindowed, opts.window, (i) => js.publish(subjects[i % 200]!, body));
  const publishWindowed = rate(opts.sizes.publishWindowed, seconds(t));

  // what the component's append adds: Nats-Msg-Id and an expected last subject sequence, one
  // append in flight per entity subject (as the keyed queue does), 256 subjects at once
  const last = new Map<string, number>();
  let next = 0;
  t = performance.now();
  await Promise.all(
    Array.from({ length: opts.window }, async (_, w) => {
      const subject = `${root}.occ${w}`;
      while (next < opts.sizes.publishWindowed) {
        next++;
        const ack = await js.publish(subject, body, {
          msgID: randomUUID(),
          expect: { lastSubjectSequence: last.get(subject) ?? 0 },
        });
        last.set(subject, ack.seq);
      }
    }),
  );
  const publishWindowedOcc = rate(opts.sizes.publishWindowed, seconds(t));

  const total = (await jsm.streams.info(stream)).state.messages;
  await jsm.consumers.add(stream, {
    durable_name: 'bench_consume',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 4096,
  });
  t = performance.now();
  const durable = await (await js.consumers.get(stream, 'bench_consume')).consume({ max_messages: 512 });
  let received = 0;
  for await (const m of durable) {
    m.ack();
    if (++received >= total) break;
  }
  durable.stop();
  const durableConsume = rate(received, seconds(t));

  t = performance.now();
  const ordered = await (await js.consumers.get(stream)).consume({ max_messages: 512 });
  received = 0;
  for await (const _m of ordered) if (++received >= total) break;
  ordered.stop();
  const orderedReplay = rate(received, seconds(t));

  await jsm.streams.delete(stream);
  return { publishSerial, publishWindowed, publishWindowedOcc, durableConsume, orderedReplay };
}

/**
 * How fast this process computes right now: JSON.stringify + JSON.parse of an 800-byte message,
 * one core, no I/O. These machines' speed changes by half or more within minutes; this figure
 * tells a slow run from a slow system.
 */
export function jsonCeiling(): { jsonRoundTrips: Rate } {
  const message = JSON.parse(paddedJson({ id: randomUUID(), type: 'BenchMessage' }, MESSAGE_BYTES)) as object;
  const n = 50_000;
  const t = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += (JSON.parse(JSON.stringify(message)) as { id: string }).id.length;
  if (bytes === 0) throw new Error('unreachable');
  return { jsonRoundTrips: rate(n, seconds(t)) };
}

export async function postgresCeilings(env: TestEnv, opts: CeilingOptions) {
  const schema = ident(env.names.schema('bench'));
  const table = `${schema}.docs`;
  const client = await env.pool.connect();
  try {
    // commits as the aggregators' are: without waiting for the WAL flush
    await client.query('SET synchronous_commit = off');
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(
      `CREATE TABLE ${table} (id text PRIMARY KEY, doc jsonb NOT NULL, version bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    const upsert = `INSERT INTO ${table} (id, doc, version)
      SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bigint[])
      ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = excluded.version, updated_at = now()`;
    const doc = (id: string, version: number) => paddedJson({ id, version, title: 'a board' }, MESSAGE_BYTES);
    // the first half of the batches insert, the second half update the same rows
    const distinct = Math.max(1, Math.floor(opts.sizes.upsertBatches / 2));
    let t = performance.now();
    for (let b = 0; b < opts.sizes.upsertBatches; b++) {
      const ids = Array.from({ length: UPSERT_BATCH }, (_, j) => `b${(b % distinct) * UPSERT_BATCH + j}`);
      await client.query(upsert, [ids, ids.map((id) => doc(id, b)), ids.map(() => b)]);
    }
    const upsertBatched = rate(opts.sizes.upsertBatches * UPSERT_BATCH, seconds(t));

    const single = `INSERT INTO ${table} (id, doc, version) VALUES ($1, $2, $3)
      ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = excluded.version, updated_at = now()`;
    t = performance.now();
    for (let i = 0; i < opts.sizes.upsertSingle; i++) {
      const id = `s${i % 1000}`;
      await client.query(single, [id, doc(id, i), i]);
    }
    const upsertSingle = rate(opts.sizes.upsertSingle, seconds(t));
    return { upsertBatched, upsertSingle };
  } finally {
    client.release(true); // not back to the pool with its setting
    await env.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}
