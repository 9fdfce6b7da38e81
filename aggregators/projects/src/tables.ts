import { childTable, type ViewTable } from '@devpie/client-events';
import { boardStorage, TASKS } from './board-storage';

export const PROJECTS = 'projects';
export const TEAM_MEMBERS = 'team_members';

/** A user is a team's member at most once, so team and user name the access row. */
export const teamMemberId = (teamId: string, userId: string): string => `${teamId}:${userId}`;

/**
 * Generated columns serve `GET /projects`: the requester's own projects (owner_id) and their
 * teams' (team_id, joined with team_members.user_id), filtered by `active`, keyset-paginated by
 * (name_sort, id) or (updated_sort, id). The ISO time stays text: a cast to timestamptz is not
 * IMMUTABLE, and UTC ISO strings sort in time order anyway. A board's tasks are rows of TASKS.
 */
export const projectsTables: ViewTable[] = [
  {
    name: PROJECTS,
    split: boardStorage,
    columns: [
      { column: 'owner_id', expression: "doc->>'ownerId'" },
      { column: 'team_id', expression: "doc->>'teamId'" },
      { column: 'active', expression: "(doc->>'active')::boolean", type: 'boolean' },
      // sort keys of a user's (few) projects, sorted after the owner/team lookup: not indexed, so
      // that a board's writes (updatedAt changes with each) stay HOT updates
      { column: 'name_sort', expression: "lower(doc->>'name')", index: false },
      { column: 'updated_sort', expression: "doc->>'updatedAt'", index: false },
    ],
  },
  childTable(TASKS),
  {
    name: TEAM_MEMBERS,
    columns: [
      { column: 'user_id', expression: "doc->>'userId'" },
      { column: 'team_id', expression: "doc->>'teamId'" },
    ],
  },
];
