import type { fields } from '@devpie/client-events';

/** What a user may do with a project: `owner` of a personal project, or their role on its team. */
export type Access = 'owner' | fields.Role;

/**
 * A personal project is its owner's alone. A team project belongs to the team: every member may
 * read it, whatever their role, and the owner has no rights beyond their own membership (a member
 * who leaves the team loses the projects they created in it).
 */
export function accessOf(
  project: { ownerId: string; teamId: string | null },
  userId: string,
  teamRole: fields.Role | undefined,
): Access | undefined {
  if (project.teamId === null) return project.ownerId === userId ? 'owner' : undefined;
  return teamRole;
}

/** Administrators and editors change a team's projects; commenters and viewers only read them. */
export const canWrite = (access: Access | undefined): boolean =>
  access === 'owner' || access === 'administrator' || access === 'editor';
