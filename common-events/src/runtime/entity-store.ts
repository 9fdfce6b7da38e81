import { DeliverPolicy, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { LRUCache } from 'lru-cache';
import { causedBy, type Envelope } from '../envelope';
import { ConcurrencyError, DevpieError } from '../errors';
import { deterministicId } from '../ids';
import { decode, encode, type AnyMessageSet } from '../registry';
import { COMMAND_REJECTED, type Rejection } from '../rejections';
import type { Category } from '../names';
import type { Messaging } from './messaging';

/** An entity as the component sees it: the folded state, its version and the commands it has seen. */
export interface Entity<S> {
  readonly id: string;
  readonly state: S;
  /** Stream sequence of the entity's last message (0 when it has none): the OCC expectation. */
  readonly version: number;
  /** Ids of every command that produced an event or a rejection here: idempotency beyond the dedup window. */
  readonly processed: ReadonlySet<string>;
  /** Messages applied since the last snapshot was written. */
  readonly sinceSnapshot: number;
}

export interface EntityType<S> {
  readonly category: Category;
  readonly events: AnyMessageSet;
  readonly stateVersion: number;
  initialState(): S;
  evolve(state: S, event: Envelope): S;
}

export interface EntityStoreOptions {
  cacheSize?: number;
  /** Write a snapshot once this many messages were applied since the last one. */
  snapshotEvery?: number;
  onSnapshotError?: (err: unknown) => void;
  /** An event in the entity's stream that no contract of this version reads (it is skipped). */
  onUnreadable?: (subject: string, seq: number) => void;
  /** How long a load waits for the next of the entity's messages before it fails (default 10 s). */
  catchUpStallMs?: number;
  /** A load that missed the cache: where the snapshot left off and how many messages followed it. */
  onLoad?: (info: { id: string; snapshotVersion: number; replayed: number; ms: number }) => void;
}

interface Snapshot {
  stateVersion: number;
  version: number;
  state: unknown;
  processed: string[];
}

/**
 * Loads entities from EVENTS (LRU cache → snapshot → the events after it) and appends to them
 * with `Nats-Expected-Last-Subject-Sequence`. The cache is optimistic: a stale entry only costs a
 * ConcurrencyError at append, after which the caller reloads.
 */
export class EntityStore<S> {
  private readonly cache: LRUCache<string, Entity<S>>;
  private readonly snapshotEvery: number;
  private readonly eventsStream: string;
  private readonly snapshotsStream: string;

  constructor(
    private readonly messaging: Messaging,
    private readonly type: EntityType<S>,
    private readonly opts: EntityStoreOptions = {},
  ) {
    this.cache = new LRUCache({ max: opts.cacheSize ?? 10_000 });
    this.snapshotEvery = opts.snapshotEvery ?? 200;
    this.eventsStream = messaging.names.stream('EVENTS');
    this.snapshotsStream = messaging.names.stream('SNAPSHOTS');
  }

  subject(id: string): string {
    return this.messaging.names.entity(this.type.category, id);
  }

  invalidate(id: string): void {
    this.cache.delete(id);
  }

  cached(id: string): Entity<S> | undefined {
    return this.cache.get(id);
  }

  async load(id: string): Promise<Entity<S>> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const started = performance.now();
    const empty = this.empty(id);
    // one direct get tells a new entity (most loads that miss the cache: AddProject, AddUser, ...)
    const last = await this.messaging.jsm.direct.getMessage(this.eventsStream, {
      last_by_subj: this.subject(id),
    });
    let snapshot = empty;
    let entity = empty;
    if (last) {
      snapshot = await this.fromSnapshot(id);
      entity = await this.catchUp(snapshot, last.seq);
    }
    this.cache.set(id, entity);
    this.opts.onLoad?.({
      id,
      snapshotVersion: snapshot.version,
      replayed: entity.sinceSnapshot - snapshot.sinceSnapshot,
      ms: performance.now() - started,
    });
    return entity;
  }

  /**
   * Applies one stored message (event or recorded rejection). The processed-command set is shared
   * with the superseded entity (copying it would make a 10,000-event replay quadratic): an entity
   * object is dead once a newer one exists.
   */
  apply(entity: Entity<S>, message: Envelope, seq: number): Entity<S> {
    let readable: Envelope | undefined;
    try {
      // envelope, type and data (the event set holds CommandRejected too): a known type whose data
      // breaks its contract, written by something that bypassed it, is as unreadable as an unknown type
      readable = this.type.events.parse(message);
    } catch {
      readable = undefined;
    }
    if (!readable) {
      // a tolerant reader: an event this version cannot read is skipped, never fatal for the entity
      this.opts.onUnreadable?.(this.subject(entity.id), seq);
      return { ...entity, version: seq, sinceSnapshot: entity.sinceSnapshot + 1 };
    }
    return this.applyValid(entity, readable, seq);
  }

  /** `apply` for a message already validated against the contract (what `append` just wrote). */
  private applyValid(entity: Entity<S>, message: Envelope, seq: number): Entity<S> {
    const processed = entity.processed as Set<string>;
    if (message.metadata.causationId) processed.add(message.metadata.causationId);
    const state = message.type === COMMAND_REJECTED ? entity.state : this.type.evolve(entity.state, message);
    return { id: entity.id, state, version: seq, processed, sinceSnapshot: entity.sinceSnapshot + 1 };
  }

  /**
   * Appends the one event a command decided (or its rejection) at the entity's version.
   * The event id derives from the command id, so a redelivered command cannot double-append.
   */
  async append(entity: Entity<S>, command: Envelope, outcome: { type: string; data: unknown } | Rejection) {
    const draft =
      'kind' in outcome
        ? {
            type: COMMAND_REJECTED,
            data: {
              commandId: command.id,
              commandType: command.type,
              reason: outcome.reason,
              message: outcome.message,
            },
          }
        : outcome;
    const event: Envelope = {
      id: deterministicId(command.id, `event:${this.type.category}:${entity.id}`),
      type: draft.type,
      data: draft.data,
      metadata: {
        ...causedBy(command),
        causationId: command.id,
        schemaVersion: command.metadata.schemaVersion,
      },
    } as Envelope;
    const valid = this.type.events.parse(event);
    let seq: number;
    let duplicate: boolean;
    try {
      const ack = await this.messaging.publisher.publish(this.subject(entity.id), encode(valid), {
        msgId: valid.id,
        expectedLastSubjectSequence: entity.version,
      });
      seq = ack.seq;
      duplicate = ack.duplicate;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10071) {
        this.invalidate(entity.id);
        throw new ConcurrencyError(this.subject(entity.id), entity.version, { cause: err });
      }
      throw err;
    }
    if (duplicate) {
      // Written before (a crash between append and ack): the cache may be behind, read it again.
      this.invalidate(entity.id);
      return { event: valid, entity: await this.load(entity.id), duplicate };
    }
    const next = this.applyValid(entity, valid, seq);
    this.cache.set(entity.id, next);
    if (next.sinceSnapshot >= this.snapshotEvery) this.writeSnapshot(next);
    return { event: valid, entity: next, duplicate };
  }

  private writeSnapshot(entity: Entity<S>): void {
    const snapshot: Snapshot = {
      stateVersion: this.type.stateVersion,
      version: entity.version,
      state: entity.state,
      processed: [...entity.processed],
    };
    this.cache.set(entity.id, { ...entity, sinceSnapshot: 0 });
    this.messaging.js
      .publish(this.messaging.names.snapshot(this.type.category, entity.id), JSON.stringify(snapshot))
      .catch((err: unknown) => this.opts.onSnapshotError?.(err));
  }

  private empty(id: string): Entity<S> {
    return { id, state: this.type.initialState(), version: 0, processed: new Set(), sinceSnapshot: 0 };
  }

  /** The entity as its latest snapshot has it, or empty. */
  private async fromSnapshot(id: string): Promise<Entity<S>> {
    const stored = await this.messaging.jsm.direct
      .getMessage(this.snapshotsStream, {
        last_by_subj: this.messaging.names.snapshot(this.type.category, id),
      })
      .catch(() => null); // an unreadable snapshot only costs a longer replay
    if (!stored) return this.empty(id);
    const snap = JSON.parse(Buffer.from(stored.data).toString('utf8')) as Snapshot;
    if (snap.stateVersion !== this.type.stateVersion) return this.empty(id);
    return {
      id,
      state: snap.state as S,
      version: snap.version,
      processed: new Set(snap.processed),
      sinceSnapshot: 0,
    };
  }

  /**
   * Reads the entity's messages after `entity.version` up to `last` with an ordered consumer. A
   * consumer that delivers nothing for `catchUpStallMs` is given up with an error (the command fails
   * and is retried): waiting for good would hold every later command of the entity behind this one.
   */
  private async catchUp(entity: Entity<S>, last: number): Promise<Entity<S>> {
    if (last <= entity.version) return entity;
    const consumer = await (this.messaging.js as JetStreamClient).consumers.get(this.eventsStream, {
      filter_subjects: this.subject(entity.id),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: entity.version + 1,
    });
    let current = entity;
    const messages = await consumer.consume({ max_messages: 512 });
    const stallMs = this.opts.catchUpStallMs ?? 10_000;
    let progressAt = Date.now();
    let stalled = false;
    const watchdog = setInterval(
      () => {
        if (Date.now() - progressAt < stallMs) return;
        stalled = true;
        messages.stop();
      },
      Math.min(1_000, stallMs),
    );
    try {
      for await (const m of messages) {
        progressAt = Date.now();
        let message: Envelope;
        try {
          message = decode(m.data) as Envelope;
        } catch {
          message = {} as Envelope;
        }
        current = this.apply(current, message, m.seq);
        if (m.seq >= last) break;
      }
    } finally {
      clearInterval(watchdog);
      messages.stop();
      await consumer.delete().catch(() => undefined);
    }
    if (stalled && current.version < last) {
      throw new EntityLoadStalledError(this.subject(entity.id), current.version, last, stallMs);
    }
    return current;
  }
}

/** Catching up on an entity's events got nothing for a while (a consumer lost in a failover). */
export class EntityLoadStalledError extends DevpieError {
  constructor(
    readonly subject: string,
    readonly reached: number,
    readonly last: number,
    readonly stallMs: number,
  ) {
    super(`loading ${subject} got no message for ${stallMs} ms at ${reached} of ${last}`);
  }
}
