export { evolveUser, initialUserState, type UserState } from './user';
export { decideUser, userDecider } from './user-decide';
export {
  emailEntity,
  emailEntityId,
  evolveEmail,
  initialEmailState,
  normalizeEmail,
  reserveEmail,
  type EmailReservedDraft,
  type EmailState,
} from './email';
export {
  administratorCount,
  evolveTeam,
  initialTeamState,
  isAdministrator,
  membershipOf,
  type ActiveTeam,
  type Membership,
  type TeamState,
} from './team';
export { decideTeam, teamDecider } from './team-decide';
export { buildIdentityComponent, type IdentityComponentDeps } from './component';
