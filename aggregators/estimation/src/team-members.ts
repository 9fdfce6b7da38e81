import type { fields, TeamEvent, ViewWrite } from '@devpie/client-events';

export const TEAM_MEMBERS = 'team_members';

/** Who may see a team project's estimate: one row per member, as the estimation app checks access. */
export type TeamMemberDoc = { teamId: string; userId: string; role: fields.Role; membershipId: string };

export const teamMemberId = (teamId: string, userId: string) => `${teamId}:${userId}`;

/** Every team event carries the whole membership, so rows are written without reading them. */
export function foldTeamMember(event: TeamEvent): ViewWrite[] {
  switch (event.type) {
    case 'TeamAdded': {
      const { teamId, userId, membershipId } = event.data;
      return [member({ teamId, userId, membershipId, role: 'administrator' })];
    }
    case 'MembershipCreated':
    case 'MembershipUpdated': {
      const { teamId, userId, membershipId, role } = event.data;
      return [member({ teamId, userId, membershipId, role })];
    }
    case 'MembershipDeleted': {
      const { teamId, userId } = event.data;
      return [{ table: TEAM_MEMBERS, id: teamMemberId(teamId, userId), doc: null }];
    }
    case 'CommandRejected':
      return [];
  }
}

function member(doc: TeamMemberDoc): ViewWrite {
  return { table: TEAM_MEMBERS, id: teamMemberId(doc.teamId, doc.userId), doc };
}
