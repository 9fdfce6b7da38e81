import type { Doc, SplitDoc } from './projection';
import { childWrites, type ChildWrite } from './split-docs';

// a type, not an interface: it must be assignable to Doc (an index signature)
type Item = { id: string; title: string };
type Parent = { items: Item[] };

const split: SplitDoc = {
  table: 'items',
  children: (doc) => (doc as Parent).items,
  key: (item) => (item as Item).id,
  header: (doc) => doc,
  join: (header) => header,
};

const doc = (items: Item[]): Doc => ({ items }) as Parent;
const item = (id: string, title = id): Item => ({ id, title });

/** What the diff must say, computed the plain way: every child of both documents, by key. */
function expected(before: Item[] | undefined, after: Item[] | null): ChildWrite[] {
  const previous = new Map((before ?? []).map((c) => [c.id, c]));
  const writes: ChildWrite[] = [];
  for (const child of after ?? []) {
    const was = previous.get(child.id);
    previous.delete(child.id);
    if (was && JSON.stringify(was) === JSON.stringify(child)) continue;
    writes.push({ table: 'items', id: `p/${child.id}`, doc: child, created: was === undefined });
  }
  for (const id of previous.keys()) writes.push({ table: 'items', id: `p/${id}`, doc: null, created: false });
  return writes;
}

const sorted = (w: ChildWrite[]) => [...w].sort((a, b) => a.id.localeCompare(b.id));
const diff = (before: Item[] | undefined, after: Item[] | null) =>
  childWrites(split, 'p', before && doc(before), after && doc(after));

describe('childWrites', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => item(id));

  it('writes nothing for the same children, whether the same objects or equal copies', () => {
    expect(diff([a!, b!, c!], [a!, b!, c!])).toEqual([]);
    expect(diff([a!, b!, c!], [item('a'), item('b'), item('c')])).toEqual([]);
  });

  it('writes the one child an edit changed, wherever it is', () => {
    for (const at of [0, 1, 2]) {
      const after = [a!, b!, c!];
      after[at] = item(after[at]!.id, 'edited');
      expect(diff([a!, b!, c!], after)).toEqual([
        { table: 'items', id: `p/${after[at]!.id}`, doc: after[at], created: false },
      ]);
    }
  });

  it('creates an added child at the start, in the middle and at the end', () => {
    expect(diff([a!, b!], [d!, a!, b!])).toEqual([{ table: 'items', id: 'p/d', doc: d, created: true }]);
    expect(diff([a!, b!], [a!, d!, b!])).toEqual([{ table: 'items', id: 'p/d', doc: d, created: true }]);
    expect(diff([a!, b!], [a!, b!, d!])).toEqual([{ table: 'items', id: 'p/d', doc: d, created: true }]);
  });

  it('deletes a removed child, and writes nothing for a child that only moved', () => {
    expect(diff([a!, b!, c!], [a!, c!])).toEqual([{ table: 'items', id: 'p/b', doc: null, created: false }]);
    expect(diff([a!, b!, c!, d!], [a!, d!, b!, c!])).toEqual([]);
    expect(diff([a!, b!, c!], [c!, b!, a!])).toEqual([]);
  });

  it('creates every child of a new document and deletes every child of a deleted one', () => {
    expect(diff(undefined, [a!, b!]).map((w) => [w.id, w.created])).toEqual([
      ['p/a', true],
      ['p/b', true],
    ]);
    expect(diff([a!, b!], null).map((w) => [w.id, w.doc])).toEqual([
      ['p/a', null],
      ['p/b', null],
    ]);
  });

  it('agrees with a diff of every child on random edits, moves, additions and removals', () => {
    let seed = 42;
    const rnd = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    let next = 0;
    for (let round = 0; round < 500; round++) {
      const before = Array.from({ length: rnd(12) }, () => item(`i${next++}`));
      const after = [...before];
      for (let step = rnd(4); step > 0; step--) {
        const op = rnd(5);
        if (op === 0) after.splice(rnd(after.length + 1), 0, item(`i${next++}`));
        else if (after.length === 0) continue;
        else if (op === 1) after.splice(rnd(after.length), 1);
        else if (op === 2) {
          const at = rnd(after.length);
          after[at] = item(after[at]!.id, `edited ${round}`);
        } else if (op === 3) after.splice(rnd(after.length), 0, ...after.splice(rnd(after.length), 1));
        else {
          const at = rnd(after.length);
          after[at] = item(after[at]!.id, after[at]!.title); // a copy, equal
        }
      }
      expect(sorted(diff(before, after))).toEqual(sorted(expected(before, after)));
    }
  });
});
