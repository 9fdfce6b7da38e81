import type { Doc, SplitDoc } from '@devpie/client-events';
import type { EstimateDoc, EstimateLine } from './estimate-doc';

/** Each estimate's lines, one row per task (id `<projectId>/<taskId>`). */
export const ESTIMATE_LINES = 'estimate_lines';

/** An estimate as its row stores it: the lines' task ids in order, the lines are rows of ESTIMATE_LINES. */
export type StoredEstimate = Omit<EstimateDoc, 'lines'> & { lineIds: string[] };

/**
 * Estimates are stored split: estimating a task rewrites the estimate's header (its totals and
 * the order of its lines) and that task's line, not every line of the project.
 */
export const estimateStorage: SplitDoc = {
  table: ESTIMATE_LINES,
  children: (doc) => (doc as EstimateDoc).lines,
  key: (line) => (line as EstimateLine).taskId,
  header(doc): Doc {
    const { lines, ...rest } = doc as EstimateDoc;
    const stored: StoredEstimate = { ...rest, lineIds: lines.map((l) => l.taskId) };
    return stored;
  },
  join(header, lines): Doc {
    const { lineIds, ...rest } = header as StoredEstimate;
    const estimate: EstimateDoc = {
      ...rest,
      lines: lineIds.flatMap((id) => (lines.has(id) ? [lines.get(id) as EstimateLine] : [])),
    };
    return estimate;
  },
};
