import { newId } from '@devpie/client-events';
import { given } from '@devpie/client-events/testing';
import { teamDecider } from './team-decide';

/** A team created by `admin`, with an editor. Fresh ids per call. */
function team() {
  const ids = {
    teamId: newId(),
    admin: newId(),
    adminMembership: newId(),
    editor: newId(),
    editorMembership: newId(),
  };
  const events = [
    {
      type: 'TeamAdded' as const,
      data: { teamId: ids.teamId, name: 'Studio', userId: ids.admin, membershipId: ids.adminMembership },
    },
    {
      type: 'MembershipCreated' as const,
      data: {
        teamId: ids.teamId,
        membershipId: ids.editorMembership,
        userId: ids.editor,
        role: 'editor' as const,
      },
    },
  ];
  return { ...ids, events };
}

describe('team decider', () => {
  describe('AddTeam', () => {
    it('adds the team with its creator as administrator', () => {
      const teamId = newId();
      const userId = newId();
      const membershipId = newId();
      given(teamDecider, [])
        .when({ type: 'AddTeam', data: { teamId, name: ' Studio ', membershipId } }, { userId })
        .then({ type: 'TeamAdded', data: { teamId, name: 'Studio', userId, membershipId } });
    });

    it('rejects a team that already exists', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(
          { type: 'AddTeam', data: { teamId: t.teamId, name: 'Again', membershipId: newId() } },
          { userId: t.admin },
        )
        .thenRejects('AlreadyExists');
    });

    it('rejects an anonymous creator', () => {
      given(teamDecider, [])
        .when({ type: 'AddTeam', data: { teamId: newId(), name: 'Studio', membershipId: newId() } })
        .thenRejects('Forbidden');
    });
  });

  describe('AddMembership', () => {
    const add = (t: ReturnType<typeof team>, userId = newId(), membershipId = newId()) => ({
      type: 'AddMembership' as const,
      data: { teamId: t.teamId, membershipId, userId, role: 'viewer' as const },
    });

    it('adds a member when an administrator asks', () => {
      const t = team();
      const command = add(t);
      given(teamDecider, t.events)
        .when(command, { userId: t.admin })
        .then({ type: 'MembershipCreated', data: command.data });
    });

    it('rejects a team that does not exist', () => {
      const t = team();
      given(teamDecider, []).when(add(t), { userId: t.admin }).thenRejects('NotFound');
    });

    it('rejects a member who is not an administrator', () => {
      const t = team();
      given(teamDecider, t.events).when(add(t), { userId: t.editor }).thenRejects('Forbidden');
    });

    it('rejects someone outside the team', () => {
      const t = team();
      given(teamDecider, t.events).when(add(t), { userId: newId() }).thenRejects('Forbidden');
    });

    it('rejects a user who already has a membership', () => {
      const t = team();
      given(teamDecider, t.events).when(add(t, t.editor), { userId: t.admin }).thenRejects('AlreadyMember');
    });

    it('rejects a membership id already in use', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(add(t, newId(), t.editorMembership), { userId: t.admin })
        .thenRejects('AlreadyExists');
    });
  });

  describe('ModifyMembership', () => {
    const modify = (t: ReturnType<typeof team>, membershipId: string, role: 'administrator' | 'viewer') => ({
      type: 'ModifyMembership' as const,
      data: { teamId: t.teamId, membershipId, role },
    });

    it('changes a role and says what it was', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(modify(t, t.editorMembership, 'administrator'), { userId: t.admin })
        .then({
          type: 'MembershipUpdated',
          data: {
            teamId: t.teamId,
            membershipId: t.editorMembership,
            userId: t.editor,
            role: 'administrator',
            previousRole: 'editor',
          },
        });
    });

    it('lets an administrator step down while another one remains', () => {
      const t = team();
      const promoted = {
        type: 'MembershipUpdated' as const,
        data: {
          teamId: t.teamId,
          membershipId: t.editorMembership,
          userId: t.editor,
          role: 'administrator' as const,
          previousRole: 'editor' as const,
        },
      };
      given(teamDecider, [...t.events, promoted])
        .when(modify(t, t.adminMembership, 'viewer'), { userId: t.admin })
        .then({
          type: 'MembershipUpdated',
          data: {
            teamId: t.teamId,
            membershipId: t.adminMembership,
            userId: t.admin,
            role: 'viewer',
            previousRole: 'administrator',
          },
        });
    });

    it('rejects a team that does not exist', () => {
      const t = team();
      given(teamDecider, [])
        .when(modify(t, t.adminMembership, 'viewer'), { userId: t.admin })
        .thenRejects('NotFound');
    });

    it('rejects a member who is not an administrator', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(modify(t, t.editorMembership, 'administrator'), { userId: t.editor })
        .thenRejects('Forbidden');
    });

    it('rejects an unknown membership', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(modify(t, newId(), 'viewer'), { userId: t.admin })
        .thenRejects('NotFound');
    });

    it('rejects demoting the last administrator', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(modify(t, t.adminMembership, 'viewer'), { userId: t.admin })
        .thenRejects('LastAdministrator');
    });
  });

  describe('DestroyMembership', () => {
    const destroy = (t: ReturnType<typeof team>, membershipId: string) => ({
      type: 'DestroyMembership' as const,
      data: { teamId: t.teamId, membershipId },
    });

    it('removes a member and says who and in what role', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(destroy(t, t.editorMembership), { userId: t.admin })
        .then({
          type: 'MembershipDeleted',
          data: { teamId: t.teamId, membershipId: t.editorMembership, userId: t.editor, role: 'editor' },
        });
    });

    it('removes an administrator while another one remains', () => {
      const t = team();
      const second = newId();
      const secondMembership = newId();
      given(teamDecider, [
        ...t.events,
        {
          type: 'MembershipCreated',
          data: { teamId: t.teamId, membershipId: secondMembership, userId: second, role: 'administrator' },
        },
      ])
        .when(destroy(t, t.adminMembership), { userId: second })
        .then({
          type: 'MembershipDeleted',
          data: { teamId: t.teamId, membershipId: t.adminMembership, userId: t.admin, role: 'administrator' },
        });
    });

    it('rejects a team that does not exist', () => {
      const t = team();
      given(teamDecider, [])
        .when(destroy(t, t.editorMembership), { userId: t.admin })
        .thenRejects('NotFound');
    });

    it('rejects a member who is not an administrator', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(destroy(t, t.editorMembership), { userId: t.editor })
        .thenRejects('Forbidden');
    });

    it('rejects an unknown membership', () => {
      const t = team();
      given(teamDecider, t.events).when(destroy(t, newId()), { userId: t.admin }).thenRejects('NotFound');
    });

    it('rejects removing the last administrator', () => {
      const t = team();
      given(teamDecider, t.events)
        .when(destroy(t, t.adminMembership), { userId: t.admin })
        .thenRejects('LastAdministrator');
    });
  });

  describe('evolve', () => {
    it('tracks memberships and survives a JSON snapshot', () => {
      const t = team();
      const { state } = given(teamDecider, [
        ...t.events,
        {
          type: 'MembershipUpdated',
          data: {
            teamId: t.teamId,
            membershipId: t.editorMembership,
            userId: t.editor,
            role: 'commenter',
            previousRole: 'editor',
          },
        },
      ]);
      expect(state).toEqual({
        status: 'active',
        teamId: t.teamId,
        name: 'Studio',
        memberships: {
          [t.adminMembership]: { membershipId: t.adminMembership, userId: t.admin, role: 'administrator' },
          [t.editorMembership]: { membershipId: t.editorMembership, userId: t.editor, role: 'commenter' },
        },
      });
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);

      const after = given(teamDecider, [
        ...t.events,
        {
          type: 'MembershipDeleted',
          data: { teamId: t.teamId, membershipId: t.editorMembership, userId: t.editor, role: 'editor' },
        },
      ]).state;
      expect(after).toMatchObject({ memberships: { [t.adminMembership]: { userId: t.admin } } });
      expect(Object.keys((after as { memberships: object }).memberships)).toEqual([t.adminMembership]);
    });
  });
});
