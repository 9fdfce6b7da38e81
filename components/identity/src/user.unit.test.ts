import { newId } from '@devpie/client-events';
import { given, msg } from '@devpie/client-events/testing';
import { userDecider } from './user-decide';

const passwordHash = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';

function added(userId = newId()) {
  return {
    type: 'UserAdded' as const,
    data: { userId, email: 'ada@example.com', passwordHash, firstName: 'Ada', lastName: 'Lovelace' },
  };
}

describe('user decider', () => {
  describe('AddUser', () => {
    it('adds a user with the address normalised', () => {
      const userId = newId();
      given(userDecider, [])
        .when({
          type: 'AddUser',
          data: { userId, email: ' Ada@Example.COM ', passwordHash, firstName: 'Ada', lastName: 'Lovelace' },
        })
        .then({
          type: 'UserAdded',
          data: { userId, email: 'ada@example.com', passwordHash, firstName: 'Ada', lastName: 'Lovelace' },
        });
    });

    it('rejects a user that already exists', () => {
      const event = added();
      given(userDecider, [event])
        .when({ type: 'AddUser', data: { ...event.data, email: 'other@example.com' } })
        .thenRejects('AlreadyExists');
    });
  });

  describe('ModifyUser', () => {
    it('lets users change their own profile', () => {
      const event = added();
      const { userId } = event.data;
      const changes = { firstName: 'Augusta', picture: null };
      given(userDecider, [event])
        .when({ type: 'ModifyUser', data: { userId, changes } }, { userId })
        .then({ type: 'UserModified', data: { userId, changes } });
    });

    it('rejects a user that does not exist', () => {
      const userId = newId();
      given(userDecider, [])
        .when({ type: 'ModifyUser', data: { userId, changes: { firstName: 'Ada' } } }, { userId })
        .thenRejects('NotFound');
    });

    it("rejects changes to someone else's profile", () => {
      const event = added();
      given(userDecider, [event])
        .when(
          { type: 'ModifyUser', data: { userId: event.data.userId, changes: { firstName: 'Eve' } } },
          { userId: newId() },
        )
        .thenRejects('Forbidden');
    });

    it('rejects changes from an anonymous sender', () => {
      const event = added();
      given(userDecider, [event])
        .when({ type: 'ModifyUser', data: { userId: event.data.userId, changes: { firstName: 'Eve' } } })
        .thenRejects('Forbidden');
    });
  });

  describe('evolve', () => {
    it('keeps the profile without the password hash and applies changes', () => {
      const event = added();
      const { userId } = event.data;
      const { state } = given(userDecider, [
        event,
        {
          type: 'UserModified',
          data: { userId, changes: { locale: 'fr-FR', picture: 'https://example.com/a.png' } },
        },
        { type: 'UserModified', data: { userId, changes: { lastName: 'King' } } },
      ]);
      expect(state).toEqual({
        status: 'active',
        userId,
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'King',
        locale: 'fr-FR',
        picture: 'https://example.com/a.png',
      });
      expect(JSON.stringify(state)).not.toContain('scrypt');
    });

    it('leaves the state alone on a recorded rejection', () => {
      const { state } = given(userDecider, [added()]);
      const rejection = msg('CommandRejected', {
        commandId: newId(),
        commandType: 'AddUser',
        reason: 'AlreadyExists' as const,
        message: 'exists',
      });
      expect(userDecider.evolve(state, rejection)).toBe(state);
    });
  });
});
