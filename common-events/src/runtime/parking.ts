import { headers, type MsgHdrs } from '@nats-io/nats-core';
import type { JsMsg } from '@nats-io/jetstream';
import type { Messaging } from './messaging';

export const PARK_HEADERS = {
  consumer: 'Devpie-Consumer',
  error: 'Devpie-Error',
  errorName: 'Devpie-Error-Name',
  subject: 'Devpie-Original-Subject',
  stream: 'Devpie-Original-Stream',
  seq: 'Devpie-Original-Seq',
  deliveries: 'Devpie-Deliveries',
  parkedAt: 'Devpie-Parked-At',
} as const;

export interface ParkedMessage {
  /** Sequence in the PARKED stream. */
  seq: number;
  consumer: string;
  error: string;
  errorName: string;
  subject: string;
  stream: string;
  originalSeq: number;
  deliveries: number;
  parkedAt: string;
  data: Uint8Array;
}

/**
 * Keeps a message that cannot be handled, with its error, on `_parked.<consumer>` in the PARKED
 * stream, where an operator can list it and send it back. Deduplicated by origin, so parking the
 * same message twice (a crash between park and ack) keeps one copy.
 */
export async function park(
  messaging: Messaging,
  consumer: string,
  msg: Pick<JsMsg, 'subject' | 'data' | 'seq' | 'info'>,
  error: unknown,
): Promise<void> {
  const h = headers();
  const err = error instanceof Error ? error : new Error(String(error));
  const detail =
    'issues' in err ? `${err.message}: ${JSON.stringify((err as { issues: unknown }).issues)}` : err.message;
  h.set(PARK_HEADERS.consumer, consumer);
  h.set(PARK_HEADERS.error, detail.slice(0, 4000).replace(/[\r\n]+/g, ' '));
  h.set(PARK_HEADERS.errorName, err.name);
  h.set(PARK_HEADERS.subject, msg.subject);
  h.set(PARK_HEADERS.stream, msg.info.stream);
  h.set(PARK_HEADERS.seq, String(msg.seq));
  h.set(PARK_HEADERS.deliveries, String(msg.info.deliveryCount));
  h.set(PARK_HEADERS.parkedAt, new Date().toISOString());
  await messaging.js.publish(messaging.names.parked(consumer), msg.data, {
    headers: h,
    msgID: `parked:${consumer}:${msg.info.stream}:${msg.seq}`,
  });
}

export function readParked(seq: number, h: MsgHdrs | undefined, data: Uint8Array): ParkedMessage {
  const get = (k: string) => h?.get(k) ?? '';
  return {
    seq,
    consumer: get(PARK_HEADERS.consumer),
    error: get(PARK_HEADERS.error),
    errorName: get(PARK_HEADERS.errorName),
    subject: get(PARK_HEADERS.subject),
    stream: get(PARK_HEADERS.stream),
    originalSeq: Number(get(PARK_HEADERS.seq)),
    deliveries: Number(get(PARK_HEADERS.deliveries)),
    parkedAt: get(PARK_HEADERS.parkedAt),
    data,
  };
}

/** Every parked message of a namespace (optionally one consumer's), oldest first. */
export async function listParked(messaging: Messaging, consumer?: string): Promise<ParkedMessage[]> {
  const stream = messaging.names.stream('PARKED');
  const info = await messaging.jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const filter = consumer ? messaging.names.parked(consumer) : messaging.names.parkedFilter();
  const c = await messaging.js.consumers.get(stream, { filter_subjects: filter });
  const out: ParkedMessage[] = [];
  const messages = await c.fetch({ max_messages: info.state.messages, expires: 2000 });
  for await (const m of messages) {
    out.push(readParked(m.seq, m.headers, m.data));
    if (m.info.pending === 0) break;
  }
  await c.delete().catch(() => undefined);
  return out;
}

/** Removes a parked message (after it was replayed, or when an operator discards it). */
export async function discardParked(messaging: Messaging, seq: number): Promise<boolean> {
  return messaging.jsm.streams.deleteMessage(messaging.names.stream('PARKED'), seq, false);
}
