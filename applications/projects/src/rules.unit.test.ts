import { accessOf, canWrite } from './access';
import { defaultPrefix } from './prefix';

describe('defaultPrefix', () => {
  test.each([
    ['Devpie client core', 'DCC'],
    ['website', 'W'],
    ['  École   d’été ', 'EDE'],
    ['2024 launch plan', 'LP'],
    ['Q3-roadmap / v2', 'QRV'],
    ['a b c d e f g h i j k l', 'ABCDEFGHIJ'],
    ['项目', 'P'],
    ['2024', 'P'],
  ])('%j → %s', (name, prefix) => {
    expect(defaultPrefix(name)).toBe(prefix);
    expect(prefix).toMatch(/^[A-Z][A-Z0-9]{0,9}$/);
  });
});

describe('access', () => {
  const owner = 'owner-id';
  const personal = { ownerId: owner, teamId: null };
  const team = { ownerId: owner, teamId: 'team-id' };

  test('a personal project is its owner’s alone, whatever team roles say', () => {
    expect(accessOf(personal, owner, undefined)).toBe('owner');
    expect(accessOf(personal, 'someone-else', 'administrator')).toBeUndefined();
  });

  test('a team project follows the membership, not the ownership', () => {
    expect(accessOf(team, 'member', 'viewer')).toBe('viewer');
    expect(accessOf(team, owner, undefined)).toBeUndefined();
    expect(accessOf(team, owner, 'commenter')).toBe('commenter');
  });

  test('owners, administrators and editors write; commenters, viewers and strangers do not', () => {
    expect(
      ['owner', 'administrator', 'editor', 'commenter', 'viewer', undefined].map(canWrite as never),
    ).toEqual([true, true, true, false, false, false]);
  });
});
