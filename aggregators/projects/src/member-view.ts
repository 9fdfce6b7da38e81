import {
  unreachable,
  type RowKey,
  type TeamEvent,
  type ViewRows,
  type ViewWrite,
} from '@devpie/client-events';
import type { TeamMemberDoc } from './documents';
import { TEAM_MEMBERS, teamMemberId } from './tables';

export function memberTouches(event: TeamEvent): RowKey[] {
  return event.type === 'CommandRejected'
    ? []
    : [{ table: TEAM_MEMBERS, id: teamMemberId(event.data.teamId, event.data.userId) }];
}

/** Each membership event carries the whole membership, so every write is the whole row. */
export function foldMember(rows: ViewRows, event: TeamEvent): ViewWrite[] {
  switch (event.type) {
    case 'TeamAdded': {
      const { teamId, userId, membershipId } = event.data;
      return [write({ teamId, userId, membershipId, role: 'administrator' })];
    }
    case 'MembershipCreated':
    case 'MembershipUpdated': {
      const { teamId, userId, membershipId, role } = event.data;
      return [write({ teamId, userId, membershipId, role })];
    }
    case 'MembershipDeleted': {
      const { teamId, userId, membershipId } = event.data;
      const id = teamMemberId(teamId, userId);
      const current = rows.get(TEAM_MEMBERS, id) as TeamMemberDoc | undefined;
      // a row under another membership id is a newer membership of the same user: keep it
      if (!current || current.membershipId !== membershipId) return [];
      return [{ table: TEAM_MEMBERS, id, doc: null }];
    }
    case 'CommandRejected':
      return [];
    default:
      return unreachable(event);
  }
}

const write = (doc: TeamMemberDoc): ViewWrite => ({
  table: TEAM_MEMBERS,
  id: teamMemberId(doc.teamId, doc.userId),
  doc,
});
