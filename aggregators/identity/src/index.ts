export { identityProjection } from './projection';
export { CREDENTIALS, identityTables, MEMBERSHIPS, TEAMS, USERS } from './tables';
export type { CredentialsDoc, MembershipDoc, TeamDoc, UserDoc } from './documents';
