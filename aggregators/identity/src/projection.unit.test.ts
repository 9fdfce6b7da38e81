import { newId, type Doc, type Envelope } from '@devpie/client-events';
import { foldAll, msg } from '@devpie/client-events/testing';
import { identityProjection } from './projection';

const passwordHash = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const at = (minute: number) => ({
  userId: null,
  time: `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`,
});

function userAdded(userId: string, minute = 0) {
  return msg(
    'UserAdded',
    { userId, email: 'ada@example.com', passwordHash, firstName: 'Ada', lastName: 'Lovelace' },
    at(minute),
  );
}

/** A team made by `admin` at minute 0, then one editor added at minute 1. */
function teamHistory() {
  const ids = {
    teamId: newId(),
    admin: newId(),
    adminMembership: newId(),
    editor: newId(),
    editorMembership: newId(),
  };
  const events = [
    msg(
      'TeamAdded',
      { teamId: ids.teamId, name: 'Studio', userId: ids.admin, membershipId: ids.adminMembership },
      at(0),
    ),
    msg(
      'MembershipCreated',
      { teamId: ids.teamId, membershipId: ids.editorMembership, userId: ids.editor, role: 'editor' },
      at(1),
    ),
  ];
  return { ...ids, events };
}

describe('identity projection', () => {
  it('declares its views and the columns the app looks rows up by', () => {
    expect(identityProjection).toMatchObject({
      name: 'identity',
      schema: 'identity',
      categories: ['users', 'teams'],
      ownCategories: ['users', 'teams'],
    });
    const columns = Object.fromEntries(
      identityProjection.tables.map((t) => [t.name, (t.columns ?? []).map((c) => c.column)]),
    );
    expect(columns).toEqual({
      users: ['email'],
      credentials: ['email'],
      teams: [],
      memberships: ['team_id', 'user_id'],
    });
  });

  describe('users', () => {
    it('adds the profile and, apart from it, the credentials', () => {
      const userId = newId();
      const view = foldAll(identityProjection, [userAdded(userId)]);
      expect(view.get('users', userId)).toEqual({
        id: userId,
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        locale: null,
        picture: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
      });
      expect(view.get('credentials', userId)).toEqual({ userId, email: 'ada@example.com', passwordHash });
    });

    it('applies profile changes and keeps the creation time', () => {
      const userId = newId();
      const view = foldAll(identityProjection, [
        userAdded(userId),
        msg(
          'UserModified',
          { userId, changes: { locale: 'fr', picture: 'https://example.com/a.png' } },
          at(5),
        ),
        msg('UserModified', { userId, changes: { firstName: 'Augusta', picture: null } }, at(7)),
      ]);
      expect(view.get('users', userId)).toMatchObject({
        firstName: 'Augusta',
        lastName: 'Lovelace',
        locale: 'fr',
        picture: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:07:00.000Z',
      });
      expect(view.get('credentials', userId)).toEqual({ userId, email: 'ada@example.com', passwordHash });
    });
  });

  describe('teams and memberships', () => {
    it('adds the team with its creator as administrator, then members', () => {
      const t = teamHistory();
      const view = foldAll(identityProjection, t.events);
      expect(view.get('teams', t.teamId)).toEqual({
        id: t.teamId,
        name: 'Studio',
        createdBy: t.admin,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:01:00.000Z',
        memberCount: 2,
      });
      expect(view.get('memberships', t.adminMembership)).toEqual({
        id: t.adminMembership,
        teamId: t.teamId,
        userId: t.admin,
        role: 'administrator',
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
      });
      expect(view.get('memberships', t.editorMembership)).toMatchObject({ userId: t.editor, role: 'editor' });
    });

    it('changes a role', () => {
      const t = teamHistory();
      const view = foldAll(identityProjection, [
        ...t.events,
        msg(
          'MembershipUpdated',
          {
            teamId: t.teamId,
            membershipId: t.editorMembership,
            userId: t.editor,
            role: 'viewer',
            previousRole: 'editor',
          },
          at(3),
        ),
      ]);
      expect(view.get('memberships', t.editorMembership)).toMatchObject({
        role: 'viewer',
        createdAt: '2026-01-01T00:01:00.000Z',
        updatedAt: '2026-01-01T00:03:00.000Z',
      });
      expect(view.get('teams', t.teamId)).toMatchObject({ memberCount: 2 });
    });

    it('deletes a membership and counts one member less', () => {
      const t = teamHistory();
      const view = foldAll(identityProjection, [
        ...t.events,
        msg(
          'MembershipDeleted',
          { teamId: t.teamId, membershipId: t.editorMembership, userId: t.editor, role: 'editor' },
          at(4),
        ),
      ]);
      expect(view.get('memberships', t.editorMembership)).toBeUndefined();
      expect(view.get('teams', t.teamId)).toMatchObject({
        memberCount: 1,
        updatedAt: '2026-01-01T00:04:00.000Z',
      });
    });

    it('does not count a membership twice if its event is folded again', () => {
      const t = teamHistory();
      const created = t.events[1]!;
      const deleted = msg(
        'MembershipDeleted',
        { teamId: t.teamId, membershipId: t.editorMembership, userId: t.editor, role: 'editor' },
        at(4),
      );
      const twice = foldAll(identityProjection, [...t.events, created]);
      expect(twice.get('teams', t.teamId)).toMatchObject({ memberCount: 2 });
      const deletedTwice = foldAll(identityProjection, [...t.events, deleted, deleted]);
      expect(deletedTwice.get('teams', t.teamId)).toMatchObject({ memberCount: 1 });
    });
  });

  it('writes nothing for a recorded rejection', () => {
    const rejected = msg('CommandRejected', {
      commandId: newId(),
      commandType: 'AddMembership',
      reason: 'Forbidden' as const,
      message: 'only team administrators may manage memberships',
    });
    expect(identityProjection.touches(rejected)).toEqual([]);
    expect(identityProjection.fold({ get: () => undefined }, rejected, 1)).toEqual([]);
  });

  it('reads and writes only the rows it declares, so the runner can preload a batch', () => {
    const t = teamHistory();
    const userId = newId();
    const events: Envelope[] = [
      userAdded(userId),
      msg('UserModified', { userId, changes: { lastName: 'King' } }, at(1)),
      ...t.events,
      msg(
        'MembershipUpdated',
        {
          teamId: t.teamId,
          membershipId: t.editorMembership,
          userId: t.editor,
          role: 'viewer',
          previousRole: 'editor',
        },
        at(2),
      ),
      msg(
        'MembershipDeleted',
        { teamId: t.teamId, membershipId: t.editorMembership, userId: t.editor, role: 'viewer' },
        at(3),
      ),
    ];
    const rows = new Map<string, Doc>();
    events.forEach((event, i) => {
      const declared = new Set(identityProjection.touches(event).map((k) => `${k.table}/${k.id}`));
      const writes = identityProjection.fold(
        {
          get: (table, id) => {
            expect(declared).toContain(`${table}/${id}`);
            return rows.get(`${table}/${id}`);
          },
        },
        event,
        i + 1,
      );
      for (const w of writes) {
        expect(declared).toContain(`${w.table}/${w.id}`);
        if (w.doc === null) rows.delete(`${w.table}/${w.id}`);
        else rows.set(`${w.table}/${w.id}`, w.doc);
      }
    });
    expect(rows.size).toBe(4);
  });

  it('rebuilds identical views when the events are replayed', () => {
    const t = teamHistory();
    const userId = newId();
    const events = [userAdded(userId), ...t.events];
    expect(foldAll(identityProjection, events).rows).toEqual(foldAll(identityProjection, events).rows);
  });
});
