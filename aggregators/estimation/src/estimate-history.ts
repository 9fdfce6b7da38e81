import type { EstimateEvent, ProjectEvent, ViewWrite } from '@devpie/client-events';
import type { Rate, ThreePoint } from '@devpie/estimation-component';

export const ESTIMATE_HISTORY = 'estimate_history';

/** One change a person made to an estimate, keyed by the event id. */
export type EstimateHistoryDoc = {
  projectId: string;
  taskId?: string;
  kind: 'TaskEstimated' | 'TaskEstimateRemoved' | 'RateSet';
  estimate?: ThreePoint;
  revision?: number;
  rate?: Rate;
  by: string | null;
  at: string;
};

export function foldHistory(event: EstimateEvent | ProjectEvent): ViewWrite[] {
  const by = event.metadata.userId;
  const at = event.metadata.time;
  const entry = (doc: EstimateHistoryDoc): ViewWrite[] => [{ table: ESTIMATE_HISTORY, id: event.id, doc }];
  switch (event.type) {
    case 'TaskEstimated': {
      const { projectId, taskId, estimate, revision } = event.data;
      return entry({ projectId, taskId, kind: event.type, estimate, revision, by, at });
    }
    case 'TaskEstimateRemoved': {
      const { projectId, taskId } = event.data;
      return entry({ projectId, taskId, kind: event.type, by, at });
    }
    case 'RateSet': {
      const { projectId, hourlyRate, currency } = event.data;
      return entry({ projectId, kind: event.type, rate: { hourlyRate, currency }, by, at });
    }
    default:
      return [];
  }
}
