import type { Decider, Decision, DraftOf } from '../decider';
import { envelope, type Envelope, type Origin } from '../envelope';
import { newId } from '../ids';
import type { Doc, Projection, ViewWrite } from '../runtime/projection';

const T0 = '2026-01-01T00:00:00.000Z';

/** A command or event envelope for tests: fresh id, fixed time unless given. */
export function msg<T extends string, D>(type: T, data: D, origin: Partial<Origin> = {}): Envelope<T, D> {
  return envelope(type, data, { userId: origin.userId ?? null, time: origin.time ?? T0, ...origin }, newId());
}

/**
 * Emmett-style decider tests: `given(decider, [events]).when(command).then(event)` or
 * `.thenRejects('Reason')`. Events may be drafts ({type, data}); they are wrapped in envelopes.
 */
export function given<S, C extends Envelope, E extends Envelope>(
  decider: Decider<S, C, E>,
  events: (DraftOf<E> | E)[] = [],
  origin: Partial<Origin> = {},
) {
  const state = events
    .map((e) => ('metadata' in e ? e : msg(e.type, e.data, origin)) as E)
    .reduce((s, e) => decider.evolve(s, decider.events.parse(e) as E), decider.initialState());
  return {
    state,
    when(command: DraftOf<C> | C, by: Partial<Origin> = origin) {
      const cmd = ('metadata' in command ? command : msg(command.type, command.data, by)) as C;
      const parsed = decider.commands.parse(cmd) as C;
      const decision: Decision<E> = decider.decide(parsed, state);
      return {
        decision,
        then(expected: DraftOf<E>) {
          expect(decision).toEqual(expected);
          // what a decider writes must satisfy its own contract
          decider.events.parse(msg(expected.type, expected.data, by));
        },
        thenRejects(reason: string) {
          expect(decision).toMatchObject({ kind: 'rejection', reason });
        },
      };
    },
  };
}

/** Folds events through a projection in memory, as the runner would, and returns the rows. */
export function foldAll(projection: Projection, events: Envelope[], rows = new Map<string, Doc>()) {
  const key = (t: string, id: string) => `${t}/${id}`;
  events.forEach((event, i) => {
    const parsed = projection.events.find((s) => s.has(event.type))?.parse(event) ?? event;
    const writes: ViewWrite[] = projection.fold({ get: (t, id) => rows.get(key(t, id)) }, parsed, i + 1);
    for (const w of writes) {
      if (w.doc === null) rows.delete(key(w.table, w.id));
      else rows.set(key(w.table, w.id), w.doc);
    }
  });
  return { rows, get: (table: string, id: string) => rows.get(key(table, id)) };
}
