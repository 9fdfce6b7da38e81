import {
  childTable,
  COMMAND_REJECTED,
  estimateEvents,
  projectEvents,
  teamEvents,
  type Envelope,
  type Projection,
  type RowKey,
  type TeamEvent,
  type ViewRows,
  type ViewWrite,
} from '@devpie/client-events';

import { blankEstimate, type EstimateDoc } from './estimate-doc';
import { foldEstimate, isEstimateViewEvent } from './estimate-fold';
import { ESTIMATE_LINES, estimateStorage } from './estimate-storage';
import { ESTIMATE_HISTORY, foldHistory } from './estimate-history';
import { foldTeamMember, TEAM_MEMBERS } from './team-members';

export const ESTIMATES = 'estimates';

/**
 * Estimation's views: each project's estimate (from Projects' board and Estimation's figures),
 * the history of estimate changes, and team memberships for access checks.
 */
export const estimationProjection: Projection = {
  name: 'estimation',
  schema: 'estimation',
  tables: [
    {
      name: ESTIMATES,
      split: estimateStorage,
      columns: [
        { column: 'owner_id', expression: "doc->>'ownerId'" },
        { column: 'team_id', expression: "doc->>'teamId'" },
      ],
    },
    childTable(ESTIMATE_LINES),
    { name: ESTIMATE_HISTORY, columns: [{ column: 'project_id', expression: "doc->>'projectId'" }] },
    {
      name: TEAM_MEMBERS,
      columns: [
        { column: 'user_id', expression: "doc->>'userId'" },
        { column: 'team_id', expression: "doc->>'teamId'" },
      ],
    },
  ],
  categories: ['estimates', 'projects', 'teams'],
  ownCategories: ['estimates'],
  events: [estimateEvents, projectEvents, teamEvents],

  // history and membership rows are written whole, never read
  touches(event: Envelope): RowKey[] {
    return isEstimateViewEvent(event) ? [{ table: ESTIMATES, id: event.data.projectId }] : [];
  },

  fold(rows: ViewRows, event: Envelope, position: number): ViewWrite[] {
    if (event.type === COMMAND_REJECTED) return [];
    if (isEstimateViewEvent(event)) {
      const { projectId } = event.data;
      const current = rows.get(ESTIMATES, projectId) as EstimateDoc | undefined;
      const next = foldEstimate(current ?? blankEstimate(projectId), event);
      const doc: EstimateDoc = { ...next, updatedAt: event.metadata.time, version: position };
      return [{ table: ESTIMATES, id: projectId, doc }, ...foldHistory(event)];
    }
    if (teamEvents.has(event.type)) return foldTeamMember(event as TeamEvent);
    return [];
  },
};
