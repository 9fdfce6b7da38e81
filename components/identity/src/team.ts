import { unreachable, type fields, type TeamEvent } from '@devpie/client-events';

export interface Membership {
  membershipId: string;
  userId: string;
  role: fields.Role;
}

/** Memberships are a plain record keyed by membership id, so the state survives a JSON snapshot. */
export type TeamState =
  | { status: 'initial' }
  | { status: 'active'; teamId: string; name: string; memberships: Record<string, Membership> };

export type ActiveTeam = Extract<TeamState, { status: 'active' }>;

export const initialTeamState = (): TeamState => ({ status: 'initial' });

export function evolveTeam(state: TeamState, event: TeamEvent): TeamState {
  switch (event.type) {
    case 'TeamAdded': {
      const { teamId, name, userId, membershipId } = event.data;
      return {
        status: 'active',
        teamId,
        name,
        memberships: { [membershipId]: { membershipId, userId, role: 'administrator' } },
      };
    }
    case 'MembershipCreated':
    case 'MembershipUpdated': {
      if (state.status !== 'active') return state;
      const { membershipId, userId, role } = event.data;
      return {
        ...state,
        memberships: { ...state.memberships, [membershipId]: { membershipId, userId, role } },
      };
    }
    case 'MembershipDeleted': {
      if (state.status !== 'active') return state;
      const { [event.data.membershipId]: _deleted, ...memberships } = state.memberships;
      return { ...state, memberships };
    }
    case 'CommandRejected':
      return state;
    default:
      return unreachable(event);
  }
}

export const membershipOf = (team: ActiveTeam, userId: string | null): Membership | undefined =>
  Object.values(team.memberships).find((m) => m.userId === userId);

export const isAdministrator = (team: ActiveTeam, userId: string | null): boolean =>
  membershipOf(team, userId)?.role === 'administrator';

export const administratorCount = (team: ActiveTeam): number =>
  Object.values(team.memberships).filter((m) => m.role === 'administrator').length;
