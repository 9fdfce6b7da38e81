import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { CATEGORIES, type Names } from './names';

export interface StreamOptions {
  /** 1 on a single server, 3 on a cluster. */
  replicas: number;
  /** Largest message a stream accepts (bytes). */
  maxMessageBytes?: number;
  /** Deduplication window for Nats-Msg-Id (ms). */
  duplicateWindowMs?: number;
}

const NANOS_PER_MS = 1_000_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The JetStream streams of the system. EVENTS is the source of truth: file storage, no age limit. */
export function streamDefinitions(names: Names, opts: StreamOptions): Partial<StreamConfig>[] {
  const common = {
    storage: StorageType.File,
    num_replicas: opts.replicas,
    max_msg_size: opts.maxMessageBytes ?? 1024 * 1024,
    duplicate_window: (opts.duplicateWindowMs ?? 2 * 60 * 1000) * NANOS_PER_MS,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
  };
  return [
    {
      ...common,
      name: names.stream('EVENTS'),
      subjects: CATEGORIES.map((c) => names.categoryEvents(c)),
      max_age: 0,
      deny_delete: true,
      deny_purge: true,
      // components read an entity's last sequence with a direct get (answered by any replica: a
      // stale answer only costs a concurrency conflict at append, and a reload)
      allow_direct: true,
    },
    {
      ...common,
      name: names.stream('COMMANDS'),
      subjects: CATEGORIES.map((c) => names.categoryCommands(c)),
      max_age: 30 * DAY_MS * NANOS_PER_MS,
    },
    {
      ...common,
      name: names.stream('SNAPSHOTS'),
      subjects: [names.snapshotFilter()],
      max_msgs_per_subject: 1,
      max_msg_size: 1024 * 1024,
      allow_direct: true,
    },
    {
      ...common,
      name: names.stream('PARKED'),
      subjects: [names.parkedFilter()],
      max_age: 0,
      max_msg_size: 2 * 1024 * 1024,
    },
  ];
}
