import type { Envelope } from './envelope';
import type { Category } from './names';
import type { AnyMessageSet } from './registry';
import type { Rejection } from './rejections';

/** An event as a decider writes it: the runtime adds id and metadata. */
export type DraftOf<E> = E extends Envelope<infer T, infer D> ? { type: T; data: D } : never;

/** What `decide` answers: exactly one event (atomic by construction), or a rejection with a reason code. */
export type Decision<E extends Envelope> = DraftOf<E> | Rejection;

/**
 * A pure decider for one kind of entity (Emmett's shape): `decide(command, state)` and
 * `evolve(state, event)`; time and ids arrive in the messages.
 */
export interface Decider<S, C extends Envelope, E extends Envelope> {
  readonly category: Category;
  readonly commands: AnyMessageSet;
  readonly events: AnyMessageSet;
  /** Bump when `evolve` or the state shape changes: older snapshots are then ignored. */
  readonly stateVersion: number;
  initialState(): S;
  evolve(state: S, event: E): S;
  decide(command: C, state: S): Decision<E>;
}

/** Exhaustiveness check at the end of a `switch` over message types. */
export function unreachable(value: never): never {
  throw new Error(`unhandled message ${JSON.stringify(value)}`);
}
