import type { EstimateDoc } from '@devpie/estimation-aggregator';
import { money, type Money, type Rate } from '@devpie/estimation-component';
import type { Access } from './access';
import type { HistoryRow } from './views';

/*
 * What the client gets. Hours are decimal strings with two places; money is always an object
 * `{ minor, amount }`: an integer in the currency's minor units and the same amount as a decimal
 * string in major units (never a binary float).
 */

const rateOf = (rate: Rate | null) =>
  rate ? { currency: rate.currency, hourlyRate: money(rate.hourlyRate, rate.currency) } : null;

export interface EstimateRepresentation {
  projectId: string;
  name: string | null;
  archived: boolean;
  ownerId: string | null;
  teamId: string | null;
  /** What the caller may do: `owner`, or their role on the project's team. */
  role: Access;
  rate: { currency: string; hourlyRate: Money } | null;
  lines: {
    taskId: string;
    title: string;
    columnId: string | null;
    columnTitle: string | null;
    status: 'estimated' | 'unestimated';
    estimate: { optimistic: number; likely: number; pessimistic: number } | null;
    revision: number;
    expectedHours: string | null;
    sigmaHours: string | null;
  }[];
  totals: {
    tasks: number;
    estimated: number;
    unestimated: number;
    expectedHours: string;
    sigmaHours: string;
  };
  /** The 95 % range of the total hours: expected ± 2σ_total, the low end never below zero. */
  range: { confidence: '95%'; lowHours: string; highHours: string };
  /** The quote at the rate; null until a rate is set. */
  cost: { currency: string; hourlyRate: Money; expected: Money; low: Money; high: Money } | null;
  updatedAt: string;
  version: number;
}

export function toEstimate(doc: EstimateDoc, role: Access): EstimateRepresentation {
  const { totals } = doc;
  return {
    projectId: doc.projectId,
    name: doc.name,
    archived: doc.archived,
    ownerId: doc.ownerId,
    teamId: doc.teamId,
    role,
    rate: rateOf(doc.rate),
    lines: doc.lines.map((l) => ({
      taskId: l.taskId,
      title: l.title,
      columnId: l.columnId,
      columnTitle: l.columnTitle,
      status: l.estimate ? 'estimated' : 'unestimated',
      estimate: l.estimate,
      revision: l.revision,
      expectedHours: l.expected,
      sigmaHours: l.sigma,
    })),
    totals: {
      tasks: doc.lines.length,
      estimated: doc.lines.length - totals.unestimated,
      unestimated: totals.unestimated,
      expectedHours: totals.expectedHours,
      sigmaHours: totals.sigmaHours,
    },
    range: { confidence: '95%', lowHours: totals.low, highHours: totals.high },
    cost: totals.cost,
    updatedAt: doc.updatedAt,
    version: doc.version,
  };
}

/** One change in `GET …/history`: who changed what, when; the task's current title when it still has a line. */
export function toHistoryItem(row: HistoryRow, doc: EstimateDoc) {
  const line = row.taskId ? doc.lines.find((l) => l.taskId === row.taskId) : undefined;
  return {
    id: row.id,
    kind: row.kind,
    at: row.at,
    by: row.by,
    ...(row.taskId ? { taskId: row.taskId, taskTitle: line?.title ?? null } : {}),
    ...(row.estimate ? { estimate: row.estimate, revision: row.revision } : {}),
    ...(row.rate ? { rate: rateOf(row.rate) } : {}),
  };
}
