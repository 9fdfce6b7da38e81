import type { EstimateLine } from './estimate-doc';

/*
 * Lines are kept grouped by column, columns in `columnOrder` (unknown or no column last), tasks
 * in their board order within a column; Projects' events give each task's index in its column.
 */

const rankOf = (columnOrder: readonly string[]) => (columnId: string | null) => {
  const i = columnId === null ? -1 : columnOrder.indexOf(columnId);
  return i === -1 ? Number.POSITIVE_INFINITY : i;
};

/** Inserts `line` at `index` among the lines of its column (clamped to the end of the column). */
export function insertLine(
  lines: readonly EstimateLine[],
  line: EstimateLine,
  index: number,
  columnOrder: readonly string[],
): EstimateLine[] {
  const rank = rankOf(columnOrder);
  const inColumn = lines.flatMap((l, i) => (l.columnId === line.columnId ? [i] : []));
  let at = inColumn[index];
  if (at === undefined && inColumn.length > 0) at = inColumn[inColumn.length - 1]! + 1;
  if (at === undefined) {
    const after = lines.findIndex((l) => rank(l.columnId) > rank(line.columnId));
    at = after === -1 ? lines.length : after;
  }
  return [...lines.slice(0, at), line, ...lines.slice(at)];
}

/** Regroups lines after the columns were reordered; the order within a column is kept. */
export function sortLines(lines: readonly EstimateLine[], columnOrder: readonly string[]): EstimateLine[] {
  const rank = rankOf(columnOrder);
  return [...lines].sort((a, b) => {
    const d = rank(a.columnId) - rank(b.columnId);
    return Number.isNaN(d) ? 0 : d;
  });
}
