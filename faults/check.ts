import { isDeepStrictEqual } from 'node:util';
import {
  buildAggregator,
  COMMAND_REJECTED,
  createLogger,
  ident,
  listParked,
  type Messaging,
  type Pool,
  type Projection,
} from '@devpie/client-events';
import { estimationProjection } from '@devpie/estimation-aggregator';
import { identityProjection } from '@devpie/identity-aggregator';
import { projectsProjection } from '@devpie/projects-aggregator';
import { consumersBusy } from '@devpie/client-events/testing';
import type { Acked } from './load';
import type { Context } from './processes';
import { sleep } from './servers';
import type { System } from './system';

export const PROJECTIONS: Projection[] = [identityProjection, projectsProjection, estimationProjection];

/** Which aggregator records the outcomes of a category's commands (its `ownCategories`). */
const OUTCOMES_OF: Record<string, string> = Object.fromEntries(
  PROJECTIONS.flatMap((p) => p.ownCategories.map((c) => [c, p.schema])),
);

/** A message injected on purpose: what must be parked and nothing else. */
export interface Poison {
  what: string;
  stream: string;
  seq: number;
  subject: string;
}

export interface StoredMessage {
  subject: string;
  seq: number;
  data: Uint8Array;
}

/** Every message of a stream, in order (an ordered consumer, read to the end). */
export async function readStream(messaging: Messaging, stream: string): Promise<StoredMessage[]> {
  const info = await messaging.jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await messaging.js.consumers.get(stream);
  const out: StoredMessage[] = [];
  const messages = await consumer.consume({ max_messages: 1000 });
  for await (const m of messages) {
    out.push({ subject: m.subject, seq: m.seq, data: m.data });
    if (m.info.pending === 0) break;
  }
  messages.stop();
  return out;
}

function parse(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the system is quiet: every durable consumer of the namespace has nothing pending and
 * nothing awaiting an ack, twice in a row (a reactor's commands start more work), and every
 * acknowledged command has a recorded outcome.
 */
export async function settle(
  sys: System,
  acked: Iterable<Acked>,
  timeoutMs: number,
): Promise<{ ms: number; quiet: boolean; missing: number }> {
  const started = Date.now();
  let calm = 0;
  let idleSince: number | undefined;
  let missing = -1;
  const ids = [...acked].map((a) => a.commandId);
  while (Date.now() - started < timeoutMs) {
    const busy = await consumersBusy(sys).catch(() => ['(unreachable)']);
    if (busy.length > 0) idleSince = undefined;
    else idleSince ??= Date.now();
    missing = busy.length === 0 ? await missingOutcomes(sys, ids).catch(() => ids.length) : -1;
    calm = busy.length === 0 && missing === 0 ? calm + 1 : 0;
    if (calm >= 2) return { ms: Date.now() - started, quiet: true, missing };
    // nothing left to deliver for 10 s and outcomes still missing: they will not come; the checks say which
    if (idleSince !== undefined && Date.now() - idleSince > 10_000)
      return { ms: Date.now() - started, quiet: true, missing };
    await sleep(250);
  }
  return { ms: Date.now() - started, quiet: false, missing };
}

async function missingOutcomes(sys: System, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const union = PROJECTIONS.map(
    (p) => `SELECT command_id FROM ${ident(sys.names.schema(p.schema))}.command_outcomes`,
  ).join(' UNION ALL ');
  const { rows } = await sys.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM unnest($1::uuid[]) AS a(id) WHERE a.id NOT IN (${union})`,
    [ids],
  );
  return Number(rows[0]!.n);
}

export interface OutcomeReport {
  /** Messages in COMMANDS, distinct command ids among them, poison among them. */
  commandMessages: number;
  commands: number;
  poisonCommands: number;
  eventMessages: number;
  /** Commands with exactly one outcome on their entity (event or CommandRejected), by kind. */
  accepted: number;
  rejected: number;
  rejectedBy: Record<string, number>;
  /** Commands with no outcome, or with more than one: each must be 0. */
  missing: string[];
  doubled: string[];
  /** Outcomes recorded in the command_outcomes tables that disagree with EVENTS, or are missing. */
  outcomeRowsMissing: string[];
  outcomeRowsWrong: string[];
  /** HTTP-acknowledged commands: how many, in COMMANDS, with an outcome; GET /commands answers. */
  acked: number;
  ackedNotStored: string[];
  httpChecked: number;
  httpWrong: string[];
  /** Commands sent by the apps (their own tables) but never acknowledged to the driver. */
  unackedSent: number;
}

/**
 * Every command in COMMANDS (all HTTP-acknowledged ones among them, the reactor's too) has exactly
 * one outcome on its entity in EVENTS (an event whose causationId is the command, or a
 * CommandRejected), the aggregator's command_outcomes row agrees, and `GET /commands/:id` on the
 * app that took it says so.
 */
export async function checkOutcomes(
  sys: System,
  acked: Map<string, Acked>,
  poison: Poison[],
): Promise<OutcomeReport> {
  const { names, messaging } = sys;
  const commandMsgs = await readStream(messaging, names.stream('COMMANDS'));
  const eventMsgs = await readStream(messaging, names.stream('EVENTS'));
  const poisonSeqs = new Set(poison.filter((p) => p.stream === names.stream('COMMANDS')).map((p) => p.seq));

  // (entity subject, causationId) → the outcomes stored there
  const outcomes = new Map<string, { type: string; reason?: string }[]>();
  for (const m of eventMsgs) {
    const e = parse(m.data);
    const meta = e?.metadata as { causationId?: string } | undefined;
    if (!e || !meta?.causationId) continue;
    const key = `${m.subject}\u0000${meta.causationId}`;
    const reason = e.type === COMMAND_REJECTED ? String((e.data as { reason?: string }).reason) : undefined;
    outcomes.set(key, [...(outcomes.get(key) ?? []), { type: String(e.type), reason }]);
  }

  const report: OutcomeReport = {
    commandMessages: commandMsgs.length,
    commands: 0,
    poisonCommands: 0,
    eventMessages: eventMsgs.length,
    accepted: 0,
    rejected: 0,
    rejectedBy: {},
    missing: [],
    doubled: [],
    outcomeRowsMissing: [],
    outcomeRowsWrong: [],
    acked: acked.size,
    ackedNotStored: [],
    httpChecked: 0,
    httpWrong: [],
    unackedSent: 0,
  };
  const seen = new Map<string, { status: 'accepted' | 'rejected'; category: string }>();
  const stored = new Set<string>();
  for (const m of commandMsgs) {
    const c = parse(m.data);
    if (poisonSeqs.has(m.seq)) {
      report.poisonCommands++;
      continue;
    }
    const id = typeof c?.id === 'string' ? c.id : undefined;
    if (!id) {
      report.missing.push(`COMMANDS seq ${m.seq}: not a command and not injected`);
      continue;
    }
    if (stored.has(id)) continue; // the same command sent again (a retry past the dedup window)
    stored.add(id);
    const { category, id: entityId } = names.parse(m.subject);
    const found = outcomes.get(`${names.entity(category, entityId)}\u0000${id}`) ?? [];
    if (found.length === 0) {
      report.missing.push(`${String(c?.type)} ${id} on ${m.subject}`);
      continue;
    }
    if (found.length > 1)
      report.doubled.push(`${String(c?.type)} ${id}: ${found.map((f) => f.type).join(', ')}`);
    const rejection = found.find((f) => f.type === COMMAND_REJECTED);
    if (rejection) {
      report.rejected++;
      const k = `${String(c?.type)} ${rejection.reason}`;
      report.rejectedBy[k] = (report.rejectedBy[k] ?? 0) + 1;
    } else report.accepted++;
    seen.set(id, { status: rejection ? 'rejected' : 'accepted', category });
  }
  report.commands = stored.size;

  // the aggregators' command_outcomes rows agree with EVENTS
  const recorded = new Map<string, string>();
  for (const p of PROJECTIONS) {
    const { rows } = await sys.pool.query<{ command_id: string; status: string }>(
      `SELECT command_id, status FROM ${ident(names.schema(p.schema))}.command_outcomes`,
    );
    for (const r of rows) recorded.set(`${p.schema}:${r.command_id}`, r.status);
  }
  for (const [id, s] of seen) {
    const status = recorded.get(`${OUTCOMES_OF[s.category]}:${id}`);
    if (status === undefined) report.outcomeRowsMissing.push(id);
    else if (status !== s.status) report.outcomeRowsWrong.push(`${id}: row ${status}, EVENTS ${s.status}`);
  }

  // what the driver was told, against what is stored and what the apps answer
  const ackedList = [...acked.values()];
  for (const a of ackedList)
    if (!stored.has(a.commandId)) report.ackedNotStored.push(`${a.op} ${a.commandId}`);
  const queue = ackedList.filter((a) => a.token);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let a = queue.pop(); a; a = queue.pop()) {
        const status = await commandStatus(sys, a.context, a.commandId, a.token!);
        report.httpChecked++;
        const expected = seen.get(a.commandId)?.status;
        if (status !== expected)
          report.httpWrong.push(`${a.op} ${a.commandId}: GET says ${status}, EVENTS ${expected}`);
      }
    }),
  );

  // commands the apps recorded sending that the driver never saw acknowledged (a crash mid-request)
  for (const app of ['identity_app', 'projects_app', 'estimation_app']) {
    const { rows } = await sys.pool
      .query<{ command_id: string }>(`SELECT command_id FROM ${ident(names.schema(app))}.commands`)
      .catch(() => ({ rows: [] as { command_id: string }[] }));
    report.unackedSent += rows.filter((r) => !acked.has(r.command_id)).length;
  }
  return report;
}

async function commandStatus(
  sys: System,
  context: Context,
  commandId: string,
  token: string,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${sys.api(context)}/commands/${commandId}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      if (res.status < 500 || attempt >= 5)
        return res.status === 200
          ? String(((await res.json()) as { status: string }).status)
          : `HTTP ${res.status}`;
    } catch (err) {
      if (attempt >= 5) return String(err);
    }
    await sleep(200 * (attempt + 1));
  }
}

export interface ViewReport {
  projection: string;
  /** Events the fresh replay folded (its position) and how long it took. */
  position: number;
  ms: number;
  tables: { table: string; live: number; replayed: number; equal: number; differ: string[] }[];
}

/**
 * Each projection folded afresh from EVENTS into a new schema with a new durable (`notices: false`,
 * so no app hears of it), then compared row by row with the live views: every document and its
 * version, and every command outcome. Nothing in the documents depends on when they were folded
 * (timestamps come from the events' metadata, versions are EVENTS positions, identical in a
 * replay), so they must be equal outright; only the tables' `updated_at` is the fold's own clock.
 */
export async function checkViews(sys: System, tag: string): Promise<ViewReport[]> {
  const out: ViewReport[] = [];
  const logger = createLogger('fault-check', 'silent');
  for (const projection of PROJECTIONS) {
    const schema = `${sys.names.schema(projection.schema)}_chk${tag}`;
    const durableBase = `${projection.name}-check${tag}`;
    const started = Date.now();
    const aggregator = buildAggregator({
      messaging: sys.messaging,
      pool: sys.pool,
      projection,
      logger,
      schema,
      durable: durableBase,
      notices: false,
      maxBatch: 1000,
    });
    const stream = sys.names.stream('EVENTS');
    try {
      await aggregator.start();
      for (;;) {
        const info = await sys.messaging.jsm.consumers.info(stream, aggregator.durable);
        if (info.num_pending === 0 && info.num_ack_pending === 0) break;
        if (Date.now() - started > 120_000) throw new Error(`replay of ${projection.name} did not finish`);
        await sleep(50);
      }
      await aggregator.stop();
      const report: ViewReport = {
        projection: projection.name,
        position: aggregator.position,
        ms: Date.now() - started,
        tables: [],
      };
      const live = sys.names.schema(projection.schema);
      for (const t of [...projection.tables.map((x) => x.name), 'command_outcomes']) {
        report.tables.push(await compareTable(sys.pool, live, schema, t));
      }
      out.push(report);
    } finally {
      await aggregator.stop().catch(() => undefined);
      await sys.messaging.jsm.consumers.delete(stream, aggregator.durable).catch(() => undefined);
      await sys.pool.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    }
  }
  return out;
}

async function compareTable(pool: Pool, live: string, replayed: string, table: string) {
  const outcomes = table === 'command_outcomes';
  const select = (schema: string) =>
    outcomes
      ? `SELECT command_id::text AS id, jsonb_build_object('status', status, 'type', type, 'entity', entity, 'reason', reason, 'message', message, 'eventId', event_id, 'position', position) AS doc, position AS version FROM ${ident(schema)}.command_outcomes`
      : `SELECT id, doc, version FROM ${ident(schema)}.${ident(table)}`;
  const rows = async (schema: string) => {
    const { rows: r } = await pool.query<{ id: string; doc: unknown; version: string }>(select(schema));
    return new Map(r.map((x) => [x.id, { doc: x.doc, version: Number(x.version) }]));
  };
  const a = await rows(live);
  const b = await rows(replayed);
  const differ: string[] = [];
  let equal = 0;
  for (const [id, row] of a) {
    const other = b.get(id);
    if (!other) differ.push(`${id}: only in the live view`);
    else if (row.version !== other.version || !isDeepStrictEqual(row.doc, other.doc))
      differ.push(
        `${id}: live v${row.version} ${JSON.stringify(row.doc).slice(0, 300)} ≠ replay v${other.version} ${JSON.stringify(other.doc).slice(0, 300)}`,
      );
    else equal++;
  }
  for (const id of b.keys()) if (!a.has(id)) differ.push(`${id}: only in the replay`);
  return { table, live: a.size, replayed: b.size, equal, differ };
}

export interface ParkedReport {
  total: number;
  byConsumer: Record<string, number>;
  /** Parked messages that are not injected poison: must be none. */
  unexpected: string[];
  /** Injected poison that nothing parked: must be none. */
  notParked: string[];
}

/** Only the injected poison is parked: every parked message is one, and each one was parked. */
export async function checkParked(sys: System, poison: Poison[]): Promise<ParkedReport> {
  const parked = await listParked(sys.messaging);
  const key = (stream: string, seq: number) => `${stream}#${seq}`;
  const injected = new Set(poison.map((p) => key(p.stream, p.seq)));
  const byConsumer: Record<string, number> = {};
  const unexpected: string[] = [];
  const parkedKeys = new Set<string>();
  for (const p of parked) {
    byConsumer[p.consumer] = (byConsumer[p.consumer] ?? 0) + 1;
    parkedKeys.add(key(p.stream, p.originalSeq));
    if (!injected.has(key(p.stream, p.originalSeq)))
      unexpected.push(
        `${p.consumer}: ${p.subject} (${p.stream} #${p.originalSeq}) ${p.errorName}: ${p.error.slice(0, 200)}`,
      );
  }
  const notParked = poison.filter((p) => !parkedKeys.has(key(p.stream, p.seq))).map((p) => p.what);
  return { total: parked.length, byConsumer, unexpected, notParked };
}
