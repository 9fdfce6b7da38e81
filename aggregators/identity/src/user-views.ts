import {
  unreachable,
  type RowKey,
  type UserEvent,
  type ViewRows,
  type ViewWrite,
} from '@devpie/client-events';
import type { CredentialsDoc, UserDoc } from './documents';
import { CREDENTIALS, USERS } from './tables';

export function userTouches(event: UserEvent): RowKey[] {
  switch (event.type) {
    case 'UserAdded':
      return [
        { table: USERS, id: event.data.userId },
        { table: CREDENTIALS, id: event.data.userId },
      ];
    case 'UserModified':
      return [{ table: USERS, id: event.data.userId }];
    case 'CommandRejected':
      return [];
    default:
      return unreachable(event);
  }
}

export function foldUser(rows: ViewRows, event: UserEvent): ViewWrite[] {
  const time = event.metadata.time;
  switch (event.type) {
    case 'UserAdded': {
      const { userId, email, passwordHash, firstName, lastName, locale, picture } = event.data;
      const user: UserDoc = {
        id: userId,
        email,
        firstName,
        lastName,
        locale: locale ?? null,
        picture: picture ?? null,
        createdAt: time,
        updatedAt: time,
      };
      const credentials: CredentialsDoc = { userId, email, passwordHash };
      return [
        { table: USERS, id: userId, doc: user },
        { table: CREDENTIALS, id: userId, doc: credentials },
      ];
    }
    case 'UserModified': {
      const user = rows.get(USERS, event.data.userId) as UserDoc | undefined;
      if (!user) return [];
      const changes = Object.fromEntries(
        Object.entries(event.data.changes).filter(([, v]) => v !== undefined),
      );
      return [{ table: USERS, id: user.id, doc: { ...user, ...changes, updatedAt: time } }];
    }
    case 'CommandRejected':
      return [];
    default:
      return unreachable(event);
  }
}
