import { JetStreamApiError, type ConsumerInfo, type StreamInfo } from '@nats-io/jetstream';
import { ident } from '@devpie/client-events';
import { AGGREGATORS } from './aggregators';
import type { CliContext } from './context';
import { bytes, table } from './table';

export interface StreamStatus {
  name: string;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
}
export interface ConsumerStatus {
  stream: string;
  name: string;
  filter: string;
  /** Messages not yet delivered. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  redelivered: number;
  ackFloor: number;
}
export interface CheckpointStatus {
  schema: string;
  name: string;
  /** `live` views the apps read, a `replay` in progress, or an `old` version kept after a switch. */
  role: 'live' | 'replay' | 'old';
  position: number;
  /** EVENTS' last sequence minus the position (an upper bound when the consumer filters). */
  lag: number;
  /** The durable's own count of events still to deliver, when it exists. */
  pending?: number;
  updatedAt: string;
}
export interface Status {
  namespace: string;
  streams: StreamStatus[];
  consumers: ConsumerStatus[];
  checkpoints: CheckpointStatus[];
  parked: { consumer: string; count: number }[];
  problems: string[];
}

const BASES = ['EVENTS', 'COMMANDS', 'SNAPSHOTS', 'PARKED'] as const;
const VERSIONED = /_(r|old_)(\d{14})$/;

const notFound = (err: unknown) => err instanceof JetStreamApiError && err.status === 404;

/** The schemas of this namespace that hold aggregator checkpoints (live, replays, old versions). */
export async function checkpointSchemas(ctx: CliContext): Promise<string[]> {
  const { rows } = await ctx.pool.query<{ schema: string }>(
    `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'checkpoints' ORDER BY 1`,
  );
  const ns = ctx.names.namespace;
  const bases = Object.values(AGGREGATORS).map((p) => ctx.names.schema(p.schema));
  return rows
    .map((r) => r.schema)
    .filter((s) =>
      ns ? s.startsWith(`${ns}_`) : bases.some((b) => s === b || s.replace(VERSIONED, '') === b),
    );
}

export async function collectStatus(ctx: CliContext): Promise<Status> {
  const { jsm } = ctx.messaging;
  const status: Status = {
    namespace: ctx.names.namespace,
    streams: [],
    consumers: [],
    checkpoints: [],
    parked: [],
    problems: [],
  };
  const infos = new Map<string, StreamInfo>();
  for (const base of BASES) {
    const name = ctx.names.stream(base);
    try {
      const info = await jsm.streams.info(name);
      infos.set(base, info);
      status.streams.push({
        name,
        messages: info.state.messages,
        bytes: info.state.bytes,
        firstSeq: info.state.first_seq,
        lastSeq: info.state.last_seq,
      });
      const consumers: ConsumerInfo[] = [];
      for await (const c of jsm.consumers.list(name)) consumers.push(c);
      for (const c of consumers
        .filter((x) => x.config.durable_name)
        .sort((a, b) => a.name.localeCompare(b.name))) {
        status.consumers.push({
          stream: name,
          name: c.name,
          filter: c.config.filter_subject ?? (c.config.filter_subjects ?? []).join(','),
          pending: c.num_pending,
          ackPending: c.num_ack_pending,
          redelivered: c.num_redelivered,
          ackFloor: c.ack_floor.stream_seq,
        });
      }
    } catch (err) {
      if (notFound(err)) status.problems.push(`stream ${name} does not exist (no service has started yet?)`);
      else throw err;
    }
  }

  const parked = infos.get('PARKED');
  if (parked && parked.state.messages > 0) {
    const withSubjects = await jsm.streams.info(parked.config.name, {
      subjects_filter: ctx.names.parkedFilter(),
    });
    const prefix = ctx.names.parked('x').slice(0, -1);
    for (const [subject, count] of Object.entries(withSubjects.state.subjects ?? {})) {
      status.parked.push({ consumer: subject.slice(prefix.length), count });
    }
    status.parked.sort((a, b) => a.consumer.localeCompare(b.consumer));
  }

  const lastSeq = infos.get('EVENTS')?.state.last_seq ?? 0;
  try {
    for (const schema of await checkpointSchemas(ctx)) {
      const { rows } = await ctx.pool.query<{ name: string; position: string; updated_at: Date }>(
        `SELECT name, position, updated_at FROM ${ident(schema)}.checkpoints ORDER BY name`,
      );
      const versioned = VERSIONED.exec(schema);
      for (const r of rows) {
        const consumer = status.consumers.find(
          (c) => c.stream === ctx.names.stream('EVENTS') && c.name === r.name,
        );
        status.checkpoints.push({
          schema,
          name: r.name,
          role: !versioned ? 'live' : versioned[1] === 'r' ? 'replay' : 'old',
          position: Number(r.position),
          lag: Math.max(0, lastSeq - Number(r.position)),
          pending: consumer ? consumer.pending + consumer.ackPending : undefined,
          updatedAt: r.updated_at.toISOString(),
        });
      }
    }
  } catch (err) {
    status.problems.push(`Postgres: ${err instanceof Error ? err.message : String(err)}`);
  }
  return status;
}

export function formatStatus(s: Status): string {
  const out: string[] = [`namespace: ${s.namespace || '(none)'}`, ''];
  out.push(
    table(
      ['stream', 'messages', 'bytes', 'first seq', 'last seq'],
      s.streams.map((x) => [x.name, x.messages, bytes(x.bytes), x.firstSeq, x.lastSeq]),
    ),
    '',
  );
  out.push(
    table(
      ['consumer', 'stream', 'filter', 'pending', 'ack pending', 'redelivered'],
      s.consumers.map((c) => [c.name, c.stream, c.filter, c.pending, c.ackPending, c.redelivered]),
    ),
    '',
  );
  out.push(
    table(
      ['aggregator checkpoint', 'schema', 'role', 'position', 'lag', 'pending', 'updated'],
      s.checkpoints.map((c) => [
        c.name,
        c.schema,
        c.role,
        c.position,
        c.lag,
        c.pending === undefined ? '-' : String(c.pending),
        c.updatedAt,
      ]),
    ),
    '',
  );
  out.push(
    s.parked.length === 0
      ? 'parked: none'
      : table(
          ['parked by', 'messages'],
          s.parked.map((p) => [p.consumer, p.count]),
        ),
  );
  for (const p of s.problems) out.push(`! ${p}`);
  return out.join('\n');
}
