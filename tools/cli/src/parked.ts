import { JetStreamApiError } from '@nats-io/jetstream';
import { discardParked, listParked, readParked, type Names, type ParkedMessage } from '@devpie/client-events';
import type { CliContext } from './context';
import { table } from './table';

export interface ParkedEntry extends ParkedMessage {
  /** A command (from COMMANDS, parked by a component) or an event (from EVENTS: an aggregator or a reactor). */
  kind: 'command' | 'event' | 'unknown';
  /** For an event parked by an aggregator: which one (`identity`, `projects`, ...). */
  aggregator?: string;
}

export function describe(p: ParkedMessage, names: Names): ParkedEntry {
  const kind =
    p.stream === names.stream('COMMANDS')
      ? 'command'
      : p.stream === names.stream('EVENTS')
        ? 'event'
        : 'unknown';
  const consumer =
    names.namespace && p.consumer.startsWith(`${names.namespace}_`)
      ? p.consumer.slice(names.namespace.length + 1)
      : p.consumer;
  const aggregator = /^(.+)-aggregator(-r\d{14})?$/.exec(consumer)?.[1];
  return { ...p, kind, ...(kind === 'event' && aggregator ? { aggregator } : {}) };
}

export async function listParkedEntries(ctx: CliContext, consumer?: string): Promise<ParkedEntry[]> {
  return (await listParked(ctx.messaging, consumer)).map((p) => describe(p, ctx.names));
}

export async function showParked(ctx: CliContext, seq: number): Promise<ParkedEntry | undefined> {
  try {
    const m = await ctx.messaging.jsm.streams.getMessage(ctx.names.stream('PARKED'), { seq });
    if (!m) return undefined;
    return describe(readParked(m.seq, m.header, m.data), ctx.names);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.status === 404) return undefined;
    throw err;
  }
}

export type ReplayParkedResult =
  | { status: 'missing'; seq: number }
  | { status: 'replayed'; seq: number; subject: string; streamSeq: number; duplicate: boolean }
  | {
      status: 'refused';
      seq: number;
      kind: ParkedEntry['kind'];
      consumer: string;
      aggregator?: string;
      advice: string;
    };

/** Why a parked event is never republished, and what to do instead. */
export function eventAdvice(p: ParkedEntry): string {
  const why =
    `parked message ${p.seq} is an event (EVENTS #${p.originalSeq}, ${p.subject}). EVENTS is the source of ` +
    'truth and still holds it: publishing it again would append a second copy that every consumer folds.';
  if (p.aggregator) {
    return (
      `${why} The ${p.aggregator} aggregator skipped it. Once its fold is fixed, run ` +
      `\`devpie replay ${p.aggregator}\`: the rebuild folds every event again, this one included, and after ` +
      'the switch discards the parked copies of the events the new views folded.'
    );
  }
  return (
    `${why} It was parked by ${p.consumer}, which is not an aggregator (a reactor). Fix the reaction and ` +
    `re-issue the command it should have sent; then \`devpie parked discard ${p.seq}\`.`
  );
}

/**
 * Sends a parked command back to its original subject, under a new Nats-Msg-Id derived from the
 * parked sequence (replaying the same parked message twice within the dedup window publishes
 * once), then discards the parked copy. Events are refused with advice (see eventAdvice).
 */
export async function replayParked(ctx: CliContext, seq: number): Promise<ReplayParkedResult> {
  const p = await showParked(ctx, seq);
  if (!p) return { status: 'missing', seq };
  if (p.kind !== 'command') {
    return {
      status: 'refused',
      seq,
      kind: p.kind,
      consumer: p.consumer,
      aggregator: p.aggregator,
      advice:
        p.kind === 'event'
          ? eventAdvice(p)
          : `parked message ${seq} came from stream ${p.stream}, which is not this namespace's COMMANDS: not replayed`,
    };
  }
  ctx.names.parse(p.subject); // a command subject of this namespace, or it throws
  const ack = await ctx.messaging.js.publish(p.subject, p.data, {
    msgID: `replayed:${ctx.names.stream('PARKED')}:${seq}`,
  });
  await discardParked(ctx.messaging, seq);
  return { status: 'replayed', seq, subject: p.subject, streamSeq: ack.seq, duplicate: ack.duplicate };
}

/** Deletes a parked message; false if there is none with that sequence. */
export async function discard(ctx: CliContext, seq: number): Promise<boolean> {
  if (!(await showParked(ctx, seq))) return false;
  try {
    return await discardParked(ctx.messaging, seq);
  } catch (err) {
    // 10057: deleted meanwhile (the server answers "no message found" / "stream store EOF")
    if (err instanceof JetStreamApiError && (err.status === 404 || err.code === 10057)) return false;
    throw err;
  }
}

export function formatList(entries: ParkedEntry[]): string {
  if (entries.length === 0) return 'no parked messages';
  return table(
    ['seq', 'kind', 'parked by', 'subject', 'orig seq', 'deliveries', 'parked at', 'error'],
    entries.map((p) => [
      p.seq,
      p.kind,
      p.consumer,
      p.subject,
      p.originalSeq,
      p.deliveries,
      p.parkedAt,
      `${p.errorName}: ${p.error}`.slice(0, 80),
    ]),
  );
}

export function formatOne(p: ParkedEntry): string {
  let body: string;
  const text = new TextDecoder().decode(p.data);
  try {
    body = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    body = text;
  }
  return [
    `parked message ${p.seq} (${p.kind})`,
    `  parked by    ${p.consumer}${p.aggregator ? ` (the ${p.aggregator} aggregator)` : ''}`,
    `  original     ${p.stream} #${p.originalSeq} on ${p.subject}`,
    `  deliveries   ${p.deliveries}`,
    `  parked at    ${p.parkedAt}`,
    `  error        ${p.errorName}: ${p.error}`,
    '  data',
    ...body.split('\n').map((l) => `    ${l}`),
  ].join('\n');
}
