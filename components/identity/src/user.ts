import { unreachable, type UserEvent } from '@devpie/client-events';

/**
 * What decisions about a user need. The password hash stays out: no rule reads it, and keeping it
 * out of the state keeps it out of snapshots and caches.
 */
export type UserState =
  | { status: 'initial' }
  | {
      status: 'active';
      userId: string;
      email: string;
      firstName: string;
      lastName: string;
      locale?: string;
      picture?: string | null;
    };

export const initialUserState = (): UserState => ({ status: 'initial' });

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserAdded': {
      const { userId, email, firstName, lastName, locale, picture } = event.data;
      return { status: 'active', userId, email, firstName, lastName, locale, picture };
    }
    case 'UserModified':
      return state.status === 'active' ? { ...state, ...event.data.changes } : state;
    case 'CommandRejected':
      return state;
    default:
      return unreachable(event);
  }
}
