import type { Subscription } from '@nats-io/nats-core';
import type { Messaging } from './messaging';

/** What an aggregator announces after each commit (core NATS, best effort; the views are the truth). */
export interface Notice {
  aggregator: string;
  schema: string;
  position: number;
  changes: { table: string; id: string; version: number; deleted: boolean }[];
  commands: { commandId: string; status: 'accepted' | 'rejected'; reason?: string; position: number }[];
}

/** Listens to one aggregator's notices and hands each to `onNotice`; `close()` unsubscribes. */
export function subscribeNotices(messaging: Messaging, aggregator: string, onNotice: (n: Notice) => void) {
  const sub: Subscription = messaging.nc.subscribe(messaging.names.notice(aggregator), {
    callback: (err, msg) => {
      if (err) return;
      try {
        onNotice(msg.json<Notice>());
      } catch {
        // a notice we cannot read only delays a waiter until its own check of the views
      }
    },
  });
  return { close: () => sub.unsubscribe() };
}
