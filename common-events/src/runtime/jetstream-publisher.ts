import {
  createInbox,
  headers,
  NoRespondersError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/nats-core';
import { JetStreamApiError, JetStreamError, type ApiError } from '@nats-io/jetstream';

export interface PublishOptions {
  /** `Nats-Msg-Id`: the server stores a message id once within the stream's dedup window. */
  msgId?: string;
  /** `Nats-Expected-Last-Subject-Sequence`: optimistic concurrency on the subject (0: empty). */
  expectedLastSubjectSequence?: number;
}

export interface PubAck {
  stream: string;
  seq: number;
  /** The server already had this message id: nothing new was stored. */
  duplicate: boolean;
}

interface Waiting {
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  deadline: number;
  subject: string;
}

/**
 * JetStream acked publishes, many in flight, over one reply subscription.
 *
 * Semantically `js.publish` of nats.js: the same headers, the server's PubAck, a
 * `JetStreamApiError` carrying the server's error code (10071: wrong last sequence), nats.js's
 * `NoRespondersError` when no stream takes the subject and its `TimeoutError` when no ack comes.
 * What it leaves out is the per-request machinery nats.js pays on every publish — a request
 * object, a timer, a deferred, and an Error (with its stack) built to cancel each request that
 * succeeded — which was ~10 % of a component's CPU (`npm run bench:runtime -- --profile`). Replies
 * arrive on one wildcard subscription; deadlines are swept by one timer.
 */
export class JetStreamPublisher {
  private readonly prefix: string;
  private readonly waiting = new Map<string, Waiting>();
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private counter = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 10_000,
  ) {
    this.prefix = `${createInbox()}.`;
    this.subscription = nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (!err) this.settle(msg);
      },
    });
    // deadlines are in insertion order (one timeout for all): the sweep stops at the first live one
    this.sweeper = setInterval(() => this.sweep(), Math.min(250, timeoutMs)).unref();
    void nc.closed().then(() => this.close());
  }

  /** Requests in flight. */
  get pending(): number {
    return this.waiting.size;
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PubAck> {
    const token = (++this.counter).toString(36);
    let h: MsgHdrs | undefined;
    if (opts.msgId !== undefined || opts.expectedLastSubjectSequence !== undefined) {
      h = headers();
      if (opts.msgId !== undefined) h.set('Nats-Msg-Id', opts.msgId);
      if (opts.expectedLastSubjectSequence !== undefined)
        h.set('Nats-Expected-Last-Subject-Sequence', String(opts.expectedLastSubjectSequence));
    }
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs, subject });
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, headers: h });
      } catch (err) {
        this.waiting.delete(token);
        reject(err as Error);
      }
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    if (!this.nc.isClosed()) this.subscription.unsubscribe();
    for (const [token, w] of this.waiting) {
      this.waiting.delete(token);
      w.reject(new JetStreamError('connection closed before the publish was acknowledged'));
    }
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const w = this.waiting.get(token);
    if (!w) return; // timed out already
    this.waiting.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      w.reject(new NoRespondersError(w.subject));
      return;
    }
    let reply: { stream?: string; seq?: number; duplicate?: boolean; error?: ApiError };
    try {
      reply = msg.json();
    } catch (cause) {
      w.reject(new JetStreamError('invalid ack response', { cause }));
      return;
    }
    if (reply.error) w.reject(new JetStreamApiError(reply.error));
    else if (!reply.stream || typeof reply.seq !== 'number')
      w.reject(new JetStreamError('invalid ack response'));
    else w.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) return;
      this.waiting.delete(token);
      w.reject(new TimeoutError());
    }
  }
}
