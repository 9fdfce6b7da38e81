import type { JsMsg } from '@nats-io/jetstream';
import type { Decider, Decision } from '../decider';
import type { Envelope } from '../envelope';
import { ConcurrencyError, ValidationError } from '../errors';
import { decode } from '../registry';
import { isRejection } from '../rejections';
import { backoffMs, consumeBySubject, isUnavailable } from './durable';
import { EntityStore, type Entity, type EntityStoreOptions } from './entity-store';
import type { Logger } from './logger';
import type { Messaging } from './messaging';
import { park } from './parking';

export type Outcome = 'accepted' | 'rejected' | 'duplicate';

export interface ComponentHooks {
  /**
   * After each command: its outcome, how long load + decide + append took, and how long the
   * command had waited when it was taken (ms since its `metadata.time`, by this host's clock).
   */
  onOutcome?(commandType: string, outcome: Outcome, ms: number, waitedMs: number): void;
  onConflict?(commandType: string): void;
  onParked?(reason: string): void;
}

export interface ComponentOptions<S, C extends Envelope, E extends Envelope> {
  messaging: Messaging;
  decider: Decider<S, C, E>;
  /** Durable consumer name (before namespacing), e.g. `projects-component`. */
  name: string;
  logger: Logger;
  /** Entities decided at once. */
  concurrency?: number;
  /** Deliveries of a failing command before it is parked. */
  maxDeliver?: number;
  /** Reloads after a concurrency conflict before the delivery is given up (and retried later). */
  conflictRetries?: number;
  store?: EntityStoreOptions;
  /**
   * Multi-entity steps before deciding (identity's email reservation). It may answer with a
   * rejection; otherwise the decider decides on the entity.
   */
  prepare?: (command: C, entity: Entity<S>) => Promise<Decision<E> | undefined>;
  hooks?: ComponentHooks;
}

export interface Component<S, C extends Envelope> {
  readonly store: EntityStore<S>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Decide one command and append its outcome; what every delivery runs. */
  handle(command: C): Promise<{ outcome: Outcome; event?: Envelope; version: number }>;
  readonly bound: boolean;
}

/**
 * The command processor: a durable pull consumer on `<category>.command.*`; for each command it
 * loads the entity, decides, appends the event (or the rejection) with an OCC expectation, and
 * only then acks. Poison and always-failing commands are parked after `maxDeliver` attempts.
 */
export function buildComponent<S, C extends Envelope, E extends Envelope>(
  opts: ComponentOptions<S, C, E>,
): Component<S, C> {
  const { messaging, decider, logger } = opts;
  const maxDeliver = opts.maxDeliver ?? 5;
  const conflictRetries = opts.conflictRetries ?? 10;
  const store = new EntityStore<S>(messaging, decider as never, {
    ...opts.store,
    onSnapshotError: (err) => logger.warn({ err }, 'snapshot not written'),
    onUnreadable: (subject, seq) => logger.warn({ subject, seq }, 'unreadable event skipped while loading'),
  });
  const stream = messaging.names.stream('COMMANDS');
  const durable = messaging.names.durable(opts.name);
  const consumer = consumeBySubject(messaging, {
    stream,
    durable,
    filter: messaging.names.categoryCommands(decider.category),
    maxMessages: 512,
    concurrency: opts.concurrency ?? 256,
    handle: process,
    logger,
  });

  async function handle(command: C) {
    const started = performance.now();
    const waitedMs = Date.now() - Date.parse(command.metadata.time);
    const id = decider.commands.entityId(command.data);
    for (let attempt = 0; ; attempt++) {
      const entity = await store.load(id);
      if (entity.processed.has(command.id)) {
        opts.hooks?.onOutcome?.(command.type, 'duplicate', performance.now() - started, waitedMs);
        return { outcome: 'duplicate' as const, version: entity.version };
      }
      const decision = (await opts.prepare?.(command, entity)) ?? decider.decide(command, entity.state);
      try {
        const { event, entity: next } = await store.append(entity, command, decision);
        const outcome: Outcome = isRejection(decision) ? 'rejected' : 'accepted';
        opts.hooks?.onOutcome?.(command.type, outcome, performance.now() - started, waitedMs);
        if (logger.isLevelEnabled('debug')) {
          const { traceId } = command.metadata;
          logger.debug(
            { traceId, commandId: command.id, eventId: event.id, outcome },
            `${command.type} ${outcome}`,
          );
        }
        return { outcome, event, version: next.version };
      } catch (err) {
        if (!(err instanceof ConcurrencyError) || attempt >= conflictRetries) throw err;
        opts.hooks?.onConflict?.(command.type);
        // jitter so that racing replicas do not collide again in lockstep
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  async function parkAndAck(msg: JsMsg, err: unknown) {
    try {
      await park(messaging, opts.name, msg, err);
      opts.hooks?.onParked?.(err instanceof Error ? err.name : 'Error');
      logger.error({ err, subject: msg.subject, seq: msg.seq }, 'command parked');
      msg.ack();
    } catch (parkErr) {
      logger.error({ err: parkErr }, 'parking failed; redelivering');
      msg.nak(backoffMs(msg.info.deliveryCount));
    }
  }

  async function process(msg: JsMsg) {
    let command: C;
    try {
      command = decider.commands.parse(decode(msg.data)) as C;
      const { id } = messaging.names.parse(msg.subject);
      if (decider.commands.entityId(command.data) !== id) {
        throw new ValidationError('command is on the wrong subject', [
          { path: 'subject', message: msg.subject },
        ]);
      }
    } catch (err) {
      return parkAndAck(msg, err);
    }
    try {
      await handle(command);
      msg.ack();
    } catch (err) {
      if (msg.info.deliveryCount >= maxDeliver && !isUnavailable(err)) return parkAndAck(msg, err);
      logger.warn(
        { err, commandId: command.id, deliveries: msg.info.deliveryCount },
        'command failed; will retry',
      );
      msg.nak(backoffMs(msg.info.deliveryCount));
    }
  }

  return {
    store,
    handle,
    get bound() {
      return consumer.bound;
    },
    start: () => consumer.start(),
    stop: () => consumer.stop(),
  };
}
