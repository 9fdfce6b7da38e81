import {
  teamEvents,
  userEvents,
  type Projection,
  type TeamEvent,
  type UserEvent,
} from '@devpie/client-events';
import { identityTables } from './tables';
import { foldTeam, teamTouches } from './team-views';
import { foldUser, userTouches } from './user-views';

/** Users, their credentials, teams and memberships, folded from the users and teams categories. */
export const identityProjection: Projection = {
  name: 'identity',
  schema: 'identity',
  tables: identityTables,
  categories: ['users', 'teams'],
  ownCategories: ['users', 'teams'],
  events: [userEvents, teamEvents],
  // CommandRejected is in both sets and touches nothing, so either side may take it
  touches(event) {
    if (userEvents.has(event.type)) return userTouches(event as UserEvent);
    if (teamEvents.has(event.type)) return teamTouches(event as TeamEvent);
    return [];
  },
  fold(rows, event) {
    if (userEvents.has(event.type)) return foldUser(rows, event as UserEvent);
    if (teamEvents.has(event.type)) return foldTeam(rows, event as TeamEvent);
    return [];
  },
};
