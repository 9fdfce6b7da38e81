import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { EntityLoadStalledError } from './entity-store';
import { KeyedQueue } from './keyed-queue';
import type { Logger } from './logger';
import type { Messaging } from './messaging';

const NANOS_PER_MS = 1_000_000;

/**
 * How long a pull request of a long-running consumer lives before it is renewed (heartbeats every
 * half of it). Short, so that a consumer whose pull went to a server that died notices within
 * seconds (two missed heartbeats) and pulls again from the new leader, instead of after a minute.
 */
export const PULL_EXPIRES_MS = 5_000;

/**
 * Whether a nats-server takes several filter subjects per consumer (`filter_subjects`, added in
 * 2.10); 2.9 takes one.
 */
export function takesFilterSubjects(serverVersion: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)\./.exec(serverVersion ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 2 || (major === 2 && minor >= 10);
}

export interface DurableOptions {
  stream: string;
  durable: string;
  /** The subjects delivered: several only where the server takes them (`takesFilterSubjects`). */
  filter: string | readonly string[];
  ackPolicy?: AckPolicy;
  ackWaitMs?: number;
  maxAckPending?: number;
  /** Start delivering at this stream sequence; the durable is recreated there (see resetDurable). */
  startSeq?: number;
}

/** Creates (or updates to) a durable pull consumer; the same call on every start and on every replica. */
export async function ensureDurable(messaging: Messaging, opts: DurableOptions): Promise<void> {
  const config: Partial<ConsumerConfig> = {
    durable_name: opts.durable,
    ...(typeof opts.filter === 'string' || opts.filter.length === 1
      ? { filter_subject: typeof opts.filter === 'string' ? opts.filter : opts.filter[0] }
      : { filter_subjects: [...opts.filter] }),
    ack_policy: opts.ackPolicy ?? AckPolicy.Explicit,
    ack_wait: (opts.ackWaitMs ?? 30_000) * NANOS_PER_MS,
    max_ack_pending: opts.maxAckPending ?? 1024,
    max_deliver: -1,
    ...(opts.startSeq && opts.startSeq > 1
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.startSeq }
      : { deliver_policy: DeliverPolicy.All }),
  };
  try {
    await messaging.jsm.consumers.info(opts.stream, opts.durable);
    await messaging.jsm.consumers.update(opts.stream, opts.durable, {
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
    });
  } catch (err) {
    if (err instanceof JetStreamApiError && err.status === 404)
      await messaging.jsm.consumers.add(opts.stream, config);
    else throw err;
  }
}

/**
 * Recreates a durable so that it delivers from `startSeq`, in stream order: how an aggregator
 * (one active instance, holding the lock) resumes from the position committed in Postgres,
 * instead of receiving a dead predecessor's unacked messages after newer ones.
 */
export async function resetDurable(messaging: Messaging, opts: DurableOptions): Promise<void> {
  await messaging.jsm.consumers.delete(opts.stream, opts.durable).catch((err: unknown) => {
    if (!(err instanceof JetStreamApiError && err.status === 404)) throw err;
  });
  await ensureDurable(messaging, opts);
}

/** Redelivery delay after the n-th failed delivery: 100 ms doubling, capped at 10 s. */
export const backoffMs = (deliveries: number): number =>
  Math.min(10_000, 100 * 2 ** Math.max(0, deliveries - 1));

/**
 * Reopens a consumer: `open()` until it succeeds, or undefined once `stopped()`. Each failure is
 * reported and retried at most 2 s later (a service's stop waits for this loop); a consumer
 * opened just as the service stopped is stopped again. Giving up instead would leave the service
 * consuming nothing for good, with nothing but a log line.
 */
export async function reopenUntilStopped(
  open: () => Promise<ConsumerMessages>,
  stopped: () => boolean,
  onFailure: (err: unknown, attempt: number) => void,
): Promise<ConsumerMessages | undefined> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      const messages = await open();
      if (!stopped()) return messages;
      messages.stop();
    } catch (err) {
      if (stopped()) break;
      onFailure(err, attempt);
      await new Promise((r) => setTimeout(r, Math.min(2_000, backoffMs(attempt))));
    }
  }
  return undefined;
}

/**
 * NATS or JetStream briefly unavailable: a stream electing a new leader after a server was lost
 * (no responders), a request timing out, a server answering 503, an entity's events not coming.
 * Not the message's fault: it is retried for as long as that lasts and never parked for it.
 */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.status === 503;
  if (err instanceof EntityLoadStalledError) return true;
  // by name: nats.js does not export JetStreamNotEnabled (what a publish with no responders throws)
  return err instanceof Error && ['JetStreamNotEnabled', 'NoResponders', 'TimeoutError'].includes(err.name);
}

/** A durable consumed into a keyed queue, started and stopped by its service. */
export interface SubjectConsumer {
  /** consuming: started, not stopped, and not reopening a consume that ended (readiness) */
  readonly bound: boolean;
  start(): Promise<void>;
  /** stops pulling and waits until every message taken has been handled */
  stop(): Promise<void>;
}

/**
 * Ensures a durable (`ensureDurable`) and, once started, consumes it into a keyed queue: each
 * subject's messages handled in order, subjects concurrently (up to `concurrency`). A callback
 * rather than an async iterator (a promise per message); the server's max_ack_pending bounds what
 * waits in the queue. nats.js ends a consume with an error when it cannot go on (its callback
 * threw, the consumer could not be re-created 30 times in a row): the durable is then consumed
 * again, retried until it can be, for as long as the service runs; what was delivered and not
 * acknowledged comes back after its ack wait.
 */
export function consumeBySubject(
  messaging: Messaging,
  opts: DurableOptions & {
    maxMessages: number;
    concurrency: number;
    handle(msg: JsMsg): Promise<void>;
    logger: Logger;
  },
): SubjectConsumer {
  const queue = new KeyedQueue(opts.concurrency);
  let messages: ConsumerMessages | undefined;
  let ended: Promise<void> | undefined;
  let stopping = false;

  async function open(): Promise<ConsumerMessages> {
    await ensureDurable(messaging, opts);
    const consumer = await messaging.js.consumers.get(opts.stream, opts.durable);
    return consumer.consume({
      max_messages: opts.maxMessages,
      expires: PULL_EXPIRES_MS,
      callback: (msg) => void queue.push(msg.subject, () => opts.handle(msg)),
    });
  }

  /** Until stopped: each time the consume ends with an error, opens it again. */
  async function consumeUntilStopped(first: ConsumerMessages): Promise<void> {
    for (let current = first; ;) {
      const err = await current.closed();
      if (!err || stopping) return;
      messages = undefined; // not consuming (readiness) until it is open again
      opts.logger.error({ err, durable: opts.durable }, 'consumer ended; consuming again');
      const next = await reopenUntilStopped(
        open,
        () => stopping,
        (e, attempt) =>
          opts.logger.warn({ err: e, durable: opts.durable, attempt }, 'consumer not reopened; retrying'),
      );
      if (!next) return;
      current = messages = next;
    }
  }

  return {
    get bound() {
      return messages !== undefined;
    },
    async start() {
      stopping = false;
      messages = await open();
      ended = consumeUntilStopped(messages);
    },
    async stop() {
      stopping = true;
      messages?.stop();
      await ended;
      await queue.idle();
      messages = undefined;
    },
  };
}
