export { projectsProjection } from './projection';
export { PROJECTS, TEAM_MEMBERS, teamMemberId, projectsTables } from './tables';
export type { ColumnDoc, ProjectDoc, TaskDoc, TeamMemberDoc } from './documents';
