import {
  reject,
  teamCommands,
  teamEvents,
  unreachable,
  type Decider,
  type Decision,
  type Rejection,
  type TeamCommand,
  type TeamEvent,
} from '@devpie/client-events';
import { administratorCount, evolveTeam, initialTeamState, isAdministrator, membershipOf } from './team';
import type { ActiveTeam, Membership, TeamState } from './team';

/** Shared guard of the membership commands: the team exists and the actor administers it. */
function administeredTeam(state: TeamState, teamId: string, actor: string | null): ActiveTeam | Rejection {
  if (state.status !== 'active') return reject('NotFound', `team ${teamId} does not exist`);
  if (!isAdministrator(state, actor)) {
    return reject('Forbidden', 'only team administrators may manage memberships');
  }
  return state;
}

function existingMembership(team: ActiveTeam, membershipId: string): Membership | Rejection {
  return team.memberships[membershipId] ?? reject('NotFound', `membership ${membershipId} does not exist`);
}

const isLastAdministrator = (team: ActiveTeam, membership: Membership): boolean =>
  membership.role === 'administrator' && administratorCount(team) <= 1;

export function decideTeam(command: TeamCommand, state: TeamState): Decision<TeamEvent> {
  const actor = command.metadata.userId;
  switch (command.type) {
    case 'AddTeam': {
      if (actor === null) return reject('Forbidden', 'a team is added by a signed-in user');
      if (state.status !== 'initial') {
        return reject('AlreadyExists', `team ${command.data.teamId} already exists`);
      }
      const { teamId, name, membershipId } = command.data;
      return { type: 'TeamAdded', data: { teamId, name, userId: actor, membershipId } };
    }
    case 'AddMembership': {
      const team = administeredTeam(state, command.data.teamId, actor);
      if ('kind' in team) return team;
      const { membershipId, userId } = command.data;
      if (team.memberships[membershipId]) {
        return reject('AlreadyExists', `membership ${membershipId} already exists`);
      }
      if (membershipOf(team, userId)) return reject('AlreadyMember', `user ${userId} is already a member`);
      return { type: 'MembershipCreated', data: { ...command.data } };
    }
    case 'ModifyMembership': {
      const team = administeredTeam(state, command.data.teamId, actor);
      if ('kind' in team) return team;
      const membership = existingMembership(team, command.data.membershipId);
      if ('kind' in membership) return membership;
      if (command.data.role !== 'administrator' && isLastAdministrator(team, membership)) {
        return reject('LastAdministrator', 'a team keeps at least one administrator');
      }
      const { teamId, membershipId, role } = command.data;
      return {
        type: 'MembershipUpdated',
        data: { teamId, membershipId, userId: membership.userId, role, previousRole: membership.role },
      };
    }
    case 'DestroyMembership': {
      const team = administeredTeam(state, command.data.teamId, actor);
      if ('kind' in team) return team;
      const membership = existingMembership(team, command.data.membershipId);
      if ('kind' in membership) return membership;
      if (isLastAdministrator(team, membership)) {
        return reject('LastAdministrator', 'a team keeps at least one administrator');
      }
      const { teamId, membershipId } = command.data;
      return {
        type: 'MembershipDeleted',
        data: { teamId, membershipId, userId: membership.userId, role: membership.role },
      };
    }
    default:
      return unreachable(command);
  }
}

export const teamDecider: Decider<TeamState, TeamCommand, TeamEvent> = {
  category: 'teams',
  commands: teamCommands,
  events: teamEvents,
  stateVersion: 1,
  initialState: initialTeamState,
  evolve: evolveTeam,
  decide: decideTeam,
};
