import type { NatsConnection } from '@nats-io/nats-core';

/** The part of nats.js's protocol handler (nats-core 3.x) this module relies on. */
interface ProtocolInternals {
  flushPending(): void;
  outbound: { size(): number };
  pendingLimit: number;
}

/**
 * Makes a connection write its outbound buffer once per event-loop turn instead of once per
 * microtask checkpoint.
 *
 * nats.js queues a microtask to write the buffer after the first publish that fills it. A service
 * handling many messages at once publishes from many promise continuations (acks, appends, notices),
 * and each continuation found the buffer just written: one socket write, and one wake-up of
 * nats-server, per message. Deferred to `setImmediate`, everything a turn publishes goes out in one
 * write; above nats.js's own threshold (32 KiB) the buffer is still written at once.
 *
 * Returns false, changing nothing, when the connection does not have the shape this relies on (a
 * nats.js release that changed its internals): correctness never depends on it.
 */
export function coalesceWrites(nc: NatsConnection): boolean {
  const protocol = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  if (
    !protocol ||
    typeof protocol.flushPending !== 'function' ||
    typeof protocol.outbound?.size !== 'function' ||
    typeof protocol.pendingLimit !== 'number'
  ) {
    return false;
  }
  const p = protocol as ProtocolInternals;
  const writeNow = p.flushPending.bind(p);
  let scheduled = false;
  const writeScheduled = () => {
    scheduled = false;
    writeNow();
  };
  p.flushPending = () => {
    if (p.outbound.size() >= p.pendingLimit) writeNow();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(writeScheduled);
    }
  };
  return true;
}
