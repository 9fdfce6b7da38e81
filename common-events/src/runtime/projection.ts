import type { Envelope } from '../envelope';
import type { Category } from '../names';
import type { AnyMessageSet } from '../registry';

export type Doc = Record<string, unknown>;

/** A view table: `id text primary key, doc jsonb, version bigint` plus indexed generated columns. */
export interface ViewTable {
  name: string;
  /**
   * Generated columns over `doc`, indexed unless `index` is false: e.g. `{ column: 'user_id',
   * expression: "doc->>'userId'" }`. A column that changes with most writes is better not
   * indexed: an update that changes an indexed column rewrites every index entry of the row.
   */
  columns?: { column: string; expression: string; type?: string; index?: boolean }[];
  /** The table's documents are stored as a header row here and child rows in another table. */
  split?: SplitDoc;
  /** It holds a split document's children (`childTable`): ids compare byte-wise (`COLLATE "C"`). */
  children?: boolean;
}

/**
 * A document stored as a header and child rows: a board's tasks, an estimate's lines. Folds still
 * read and write whole documents; the runner stores the header (the document with its children
 * replaced by their keys) and, for each event, only the children the event changed, so that a
 * change to one task rewrites a small header and one small row instead of the whole board.
 * Child rows are in `table` (declared with `childTable`), with id `<document id>/<child key>`.
 */
export interface SplitDoc {
  /** The child table. */
  readonly table: string;
  /**
   * The document's children in its order. A fold keeps the object of a child it does not change
   * (an unchanged child is recognised by identity first, then by its JSON).
   */
  children(doc: Doc): Doc[];
  /** A child's key, unique within its document. */
  key(child: Doc): string;
  /** What the header row stores: the document with its children replaced by their keys. */
  header(doc: Doc): Doc;
  /** The whole document from its header and its children by key. */
  join(header: Doc, children: ReadonlyMap<string, Doc>): Doc;
}

export interface RowKey {
  table: string;
  id: string;
}

/** One change a fold makes: the row's new document, or null to delete it. */
export interface ViewWrite extends RowKey {
  doc: Doc | null;
}

/** Read access to the rows a fold declared it touches (as of the events before this one). */
export interface ViewRows {
  get(table: string, id: string): Doc | undefined;
}

/**
 * An aggregator's pure fold. For each event it names the rows it reads and writes (`touches`),
 * and `fold` returns the writes. The runner batches many events into one transaction.
 */
export interface Projection {
  /** `projects` → durable `projects-aggregator`, notices on `_notice.projects`. */
  readonly name: string;
  /** Postgres schema the views live in (namespaced by the runner). */
  readonly schema: string;
  readonly tables: ViewTable[];
  /** Categories whose events it folds; one category → that filter, several → every event. */
  readonly categories: Category[];
  /** Categories whose command outcomes (accepted/rejected) it records for `GET /commands/:id`. */
  readonly ownCategories: Category[];
  readonly events: AnyMessageSet[];
  touches(event: Envelope): RowKey[];
  fold(rows: ViewRows, event: Envelope, position: number): ViewWrite[];
}
