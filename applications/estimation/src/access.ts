import type { fields } from '@devpie/client-events';

/** What a user may do with a project's estimate: `owner` of a personal project, or their role on its team. */
export type Access = 'owner' | fields.Role;

/**
 * The project's own rules, from estimation's views (the project's owner and team, and the team's
 * memberships, folded from Projects' and Identity's events): a personal project is its owner's
 * alone; a team project is every member's to read, whatever their role, and the owner has no
 * rights beyond their own membership.
 */
export function accessOf(
  estimate: { ownerId: string | null; teamId: string | null },
  userId: string,
  teamRole: fields.Role | undefined,
): Access | undefined {
  if (estimate.teamId === null)
    return estimate.ownerId !== null && estimate.ownerId === userId ? 'owner' : undefined;
  return teamRole;
}

/** Administrators and editors change a team's estimates; commenters and viewers only read them. */
export const canWrite = (access: Access | undefined): boolean =>
  access === 'owner' || access === 'administrator' || access === 'editor';
