import { lineFigures, quote, type Quote, type Rate, type ThreePoint } from '@devpie/estimation-component';

/** One task of the project; `estimate` null means "unestimated". Hours are decimal strings. */
export type EstimateLine = {
  taskId: string;
  title: string;
  /** Null only for a task the view heard of from Estimation before Projects (or whose column went). */
  columnId: string | null;
  columnTitle: string | null;
  estimate: ThreePoint | null;
  revision: number;
  /**
   * Whether Estimation has registered the task (TaskRegistered), i.e. whether an estimate of it
   * can be accepted yet. A line appears from Projects' TaskAdded a moment before the reactor's
   * RegisterTask is decided; the app waits for this before sending an estimate.
   */
  registered: boolean;
  expected: string | null;
  sigma: string | null;
};

export type EstimateTotals = Quote & { unestimated: number };

/** What `GET /estimates/projects/:projectId` returns. */
export type EstimateDoc = {
  projectId: string;
  name: string | null;
  ownerId: string | null;
  teamId: string | null;
  /**
   * Whether Estimation has opened the estimate (EstimateOpened): the document appears from
   * Projects' ProjectAdded a moment before the reactor's OpenEstimate is decided, and the rate and
   * estimates are only accepted once it is open.
   */
  opened: boolean;
  archived: boolean;
  rate: Rate | null;
  /** id → title; jsonb keeps no key order, hence `columnOrder`. */
  columns: Record<string, string>;
  columnOrder: string[];
  /** In board order: columns in `columnOrder`, tasks in their order within each column. */
  lines: EstimateLine[];
  /** Tasks destroyed in Projects, so a late TaskRegistered or TaskEstimated cannot bring a line back. */
  removedTaskIds: string[];
  totals: EstimateTotals;
  updatedAt: string;
  version: number;
};

export function blankEstimate(projectId: string): EstimateDoc {
  return {
    projectId,
    name: null,
    ownerId: null,
    teamId: null,
    opened: false,
    archived: false,
    rate: null,
    columns: {},
    columnOrder: [],
    lines: [],
    removedTaskIds: [],
    totals: totalsOf([], null),
    updatedAt: '',
    version: 0,
  };
}

export function unestimatedLine(
  taskId: string,
  title: string,
  columnId: string | null,
  columnTitle: string | null,
  registered = false,
): EstimateLine {
  return {
    taskId,
    title,
    columnId,
    columnTitle,
    estimate: null,
    revision: 0,
    expected: null,
    sigma: null,
    registered,
  };
}

export function estimatedLine(line: EstimateLine, estimate: ThreePoint, revision: number): EstimateLine {
  return { ...line, estimate, revision, ...lineFigures(estimate), registered: true };
}

export function totalsOf(lines: readonly EstimateLine[], rate: Rate | null): EstimateTotals {
  const estimates = lines.flatMap((l) => (l.estimate ? [l.estimate] : []));
  return { ...quote(estimates, rate), unestimated: lines.length - estimates.length };
}
