// Contracts (no I/O)
export * from './envelope';
export * from './errors';
export * from './ids';
export * from './names';
export * from './streams';
export * from './rejections';
export * from './registry';
export * from './decider';
export * as fields from './contexts/fields';
export * from './contexts/identity';
export * from './contexts/projects';
export * from './contexts/estimation';

// Messaging runtime (NATS + Postgres I/O), used by every service
export * from './runtime/messaging';
export * from './runtime/jetstream-publisher';
export * from './runtime/write-coalescing';
export * from './runtime/publish';
export * from './runtime/entity-store';
export * from './runtime/component';
export * from './runtime/reactor';
export * from './runtime/projection';
export * from './runtime/view-store';
export * from './runtime/split-docs';
export * from './runtime/aggregator';
export * from './runtime/notices';
export * from './runtime/parking';
export * from './runtime/postgres';
export * from './runtime/logger';
export * from './runtime/keyed-queue';
export * from './runtime/config';
export * from './runtime/service';
export * from './runtime/ops-server';
export * from './runtime/metrics';
export * from './runtime/node-flags';
