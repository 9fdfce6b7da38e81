import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Names } from '../names';
import { streamDefinitions, type StreamOptions } from '../streams';
import { JetStreamPublisher } from './jetstream-publisher';
import { coalesceWrites } from './write-coalescing';

/** The NATS side of a service: one connection, its JetStream handles and the names it uses. */
export interface Messaging {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Acked publishes on the hot paths (appends, commands): many in flight, cheap per message. */
  readonly publisher: JetStreamPublisher;
  readonly names: Names;
}

export interface MessagingOptions {
  servers: string | string[];
  name: string;
  names: Names;
}

export async function connectMessaging(opts: MessagingOptions): Promise<Messaging> {
  const nc = await connect({
    servers: opts.servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // no stack capture per request: measured at ~15 % of a component's CPU (bench/runtime.ts --profile)
    noAsyncTraces: true,
  });
  coalesceWrites(nc);
  return {
    nc,
    js: jetstream(nc, { timeout: 10_000 }),
    jsm: await jetstreamManager(nc),
    publisher: new JetStreamPublisher(nc, 10_000),
    names: opts.names,
  };
}

/** Creates the system's streams, or updates them to the definitions (idempotent). */
export async function ensureStreams(messaging: Messaging, opts: StreamOptions): Promise<void> {
  for (const def of streamDefinitions(messaging.names, opts) as (Partial<StreamConfig> & {
    name: string;
  })[]) {
    try {
      const info = await messaging.jsm.streams.info(def.name!);
      if (!sameConfig(info.config, def)) await messaging.jsm.streams.update(def.name!, def);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.status === 404) await messaging.jsm.streams.add(def);
      else throw err;
    }
  }
}

function sameConfig(current: StreamConfig, wanted: Partial<StreamConfig>): boolean {
  return Object.entries(wanted).every(
    ([k, v]) => JSON.stringify(current[k as keyof StreamConfig]) === JSON.stringify(v),
  );
}

/** Deletes every stream of a namespace: for tests and for tearing down a demo. */
export async function deleteStreams(messaging: Messaging): Promise<void> {
  for (const def of streamDefinitions(messaging.names, { replicas: 1 })) {
    await messaging.jsm.streams.delete(def.name!).catch((err: unknown) => {
      if (!(err instanceof JetStreamApiError && err.status === 404)) throw err;
    });
  }
}
