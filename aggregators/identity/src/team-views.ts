import {
  unreachable,
  type RowKey,
  type TeamEvent,
  type ViewRows,
  type ViewWrite,
} from '@devpie/client-events';
import type { MembershipDoc, TeamDoc } from './documents';
import { MEMBERSHIPS, TEAMS } from './tables';

export function teamTouches(event: TeamEvent): RowKey[] {
  switch (event.type) {
    case 'TeamAdded':
    case 'MembershipCreated':
    case 'MembershipDeleted':
      return [
        { table: TEAMS, id: event.data.teamId },
        { table: MEMBERSHIPS, id: event.data.membershipId },
      ];
    case 'MembershipUpdated':
      return [{ table: MEMBERSHIPS, id: event.data.membershipId }];
    case 'CommandRejected':
      return [];
    default:
      return unreachable(event);
  }
}

/**
 * memberCount moves only when the membership row appears or disappears, so the count stays right
 * even if the same event were folded twice.
 */
export function foldTeam(rows: ViewRows, event: TeamEvent): ViewWrite[] {
  const time = event.metadata.time;
  switch (event.type) {
    case 'TeamAdded': {
      const { teamId, name, userId, membershipId } = event.data;
      const team: TeamDoc = {
        id: teamId,
        name,
        createdBy: userId,
        createdAt: time,
        updatedAt: time,
        memberCount: 1,
      };
      const membership: MembershipDoc = {
        id: membershipId,
        teamId,
        userId,
        role: 'administrator',
        createdAt: time,
        updatedAt: time,
      };
      return [
        { table: TEAMS, id: teamId, doc: team },
        { table: MEMBERSHIPS, id: membershipId, doc: membership },
      ];
    }
    case 'MembershipCreated': {
      const { teamId, membershipId, userId, role } = event.data;
      const existing = rows.get(MEMBERSHIPS, membershipId) as MembershipDoc | undefined;
      const membership: MembershipDoc = {
        id: membershipId,
        teamId,
        userId,
        role,
        createdAt: existing?.createdAt ?? time,
        updatedAt: time,
      };
      const writes: ViewWrite[] = [{ table: MEMBERSHIPS, id: membershipId, doc: membership }];
      return existing ? writes : [...writes, ...countMembers(rows, teamId, +1, time)];
    }
    case 'MembershipUpdated': {
      const membership = rows.get(MEMBERSHIPS, event.data.membershipId) as MembershipDoc | undefined;
      if (!membership) return [];
      const doc: MembershipDoc = { ...membership, role: event.data.role, updatedAt: time };
      return [{ table: MEMBERSHIPS, id: membership.id, doc }];
    }
    case 'MembershipDeleted': {
      const { teamId, membershipId } = event.data;
      if (!rows.get(MEMBERSHIPS, membershipId)) return [];
      return [{ table: MEMBERSHIPS, id: membershipId, doc: null }, ...countMembers(rows, teamId, -1, time)];
    }
    case 'CommandRejected':
      return [];
    default:
      return unreachable(event);
  }
}

function countMembers(rows: ViewRows, teamId: string, delta: number, time: string): ViewWrite[] {
  const team = rows.get(TEAMS, teamId) as TeamDoc | undefined;
  if (!team) return [];
  const doc: TeamDoc = { ...team, memberCount: team.memberCount + delta, updatedAt: time };
  return [{ table: TEAMS, id: teamId, doc }];
}
