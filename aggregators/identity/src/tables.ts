import type { ViewTable } from '@devpie/client-events';

export const USERS = 'users';
/** Kept apart from `users` so that profile reads never carry the password hash. */
export const CREDENTIALS = 'credentials';
export const TEAMS = 'teams';
export const MEMBERSHIPS = 'memberships';

export const identityTables: ViewTable[] = [
  // sign-in and adding members look users up by address
  { name: USERS, columns: [{ column: 'email', expression: "doc->>'email'" }] },
  { name: CREDENTIALS, columns: [{ column: 'email', expression: "doc->>'email'" }] },
  { name: TEAMS },
  {
    name: MEMBERSHIPS,
    columns: [
      { column: 'team_id', expression: "doc->>'teamId'" },
      { column: 'user_id', expression: "doc->>'userId'" },
    ],
  },
];
