export { projectsProjection } from './projection';
export { PROJECTS, TEAM_MEMBERS, teamMemberId, projectsTables } from './tables';
export { boardStorage, TASKS, type StoredBoard } from './board-storage';
export type { ColumnDoc, ProjectDoc, TaskDoc, TeamMemberDoc } from './documents';
