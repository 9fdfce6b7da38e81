import type { Doc, SplitDoc, ViewTable, ViewWrite } from './projection';

/** Id of a child row: its document's id and its key. Document ids never hold a `/`. */
export const childRowId = (docId: string, key: string): string => `${docId}/${key}`;

/**
 * The table of a split document's children. Its ids are `<document id>/<key>` and compare
 * byte-wise (`COLLATE "C"`), so a document's children are one range of the primary key, from
 * `<id>/` to `<id>0` (`0` follows `/`): no second index to keep up on every insert (a fifth of
 * Postgres's time for a new task row).
 */
export function childTable(name: string): ViewTable {
  return { name, children: true };
}

/**
 * The child rows one event's write changes: a child that is new or no longer the same is
 * written, a child that is gone is deleted. Unchanged children are not written, so a child row's
 * version is the position of the last event that changed it, as in any replay of the same events.
 */
export function childWrites(
  split: SplitDoc,
  docId: string,
  before: Doc | undefined,
  after: Doc | null,
): ChildWrite[] {
  const was = before ? split.children(before) : [];
  const now = after ? split.children(after) : [];
  // A fold keeps the children it did not change (the same objects) where they were: only the
  // part between the common start and end is keyed and compared, not a whole board per event.
  let start = 0;
  while (start < was.length && start < now.length && was[start] === now[start]) start++;
  let endWas = was.length;
  let endNow = now.length;
  while (endWas > start && endNow > start && was[endWas - 1] === now[endNow - 1]) {
    endWas--;
    endNow--;
  }
  const previous = new Map<string, Doc>();
  for (let i = start; i < endWas; i++) previous.set(split.key(was[i]!), was[i]!);
  const writes: ChildWrite[] = [];
  for (let i = start; i < endNow; i++) {
    const child = now[i]!;
    const key = split.key(child);
    const old = previous.get(key);
    previous.delete(key);
    if (old === child || (old !== undefined && JSON.stringify(old) === JSON.stringify(child))) continue;
    writes.push({ table: split.table, id: childRowId(docId, key), doc: child, created: old === undefined });
  }
  for (const key of previous.keys()) {
    writes.push({ table: split.table, id: childRowId(docId, key), doc: null, created: false });
  }
  return writes;
}

/** A child row's write; `created`: the document did not have the child before the event. */
export type ChildWrite = ViewWrite & { created: boolean };

/**
 * SQL for a split document's child rows as one jsonb array, beside its header row: `table` is the
 * child table's qualified name, `header` the alias of the header table in the query.
 */
export function childrenSql(table: string, header: string): string {
  return `(SELECT coalesce(jsonb_agg(c.doc), '[]'::jsonb) FROM ${table} c
    WHERE c.id > (${header}.id || '/') COLLATE "C" AND c.id < (${header}.id || '0') COLLATE "C")`;
}

/** A split document from its header row and its child rows (in any order). */
export function joinDoc(split: SplitDoc, header: Doc, children: readonly Doc[]): Doc {
  return split.join(header, new Map(children.map((c) => [split.key(c), c])));
}
