export { estimationProjection, ESTIMATES } from './projection';
export type { EstimateDoc, EstimateLine, EstimateTotals } from './estimate-doc';
export { ESTIMATE_LINES, estimateStorage, type StoredEstimate } from './estimate-storage';
export { ESTIMATE_HISTORY, type EstimateHistoryDoc } from './estimate-history';
export { TEAM_MEMBERS, teamMemberId, type TeamMemberDoc } from './team-members';
