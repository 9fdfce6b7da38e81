import { z } from 'zod';
import { eventSet, messageSet, type MessageOf } from '../registry';
import { email, id, locale, name, role, url } from './fields';

/** scrypt hash in PHC-like form `scrypt$N$r$p$salt$hash`: the clear password never leaves the app. */
const passwordHash = z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);

const profile = {
  firstName: name,
  lastName: name,
  locale: locale.optional(),
  picture: url.nullable().optional(),
};
const profileChanges = z
  .object({ firstName: name, lastName: name, locale, picture: url.nullable() })
  .partial()
  .strict()
  .refine((c) => Object.keys(c).length > 0, 'at least one field to change');

export const userCommands = messageSet('users', 'command', 'userId', {
  AddUser: z.object({ userId: id, email, passwordHash, ...profile }).strict(),
  ModifyUser: z.object({ userId: id, changes: profileChanges }).strict(),
});
export const userEvents = eventSet('users', 'userId', {
  UserAdded: z.object({ userId: id, email, passwordHash, ...profile }).strict(),
  UserModified: z.object({ userId: id, changes: profileChanges }).strict(),
});

/** An email address is its own entity (`emails.<sha256>`): reserving it first is what makes it unique. */
export const emailEvents = eventSet('emails', 'email', {
  EmailReserved: z.object({ email, userId: id }).strict(),
});

export const teamCommands = messageSet('teams', 'command', 'teamId', {
  /** The creator (metadata.userId) becomes the team's first administrator under `membershipId`. */
  AddTeam: z.object({ teamId: id, name, membershipId: id }).strict(),
  AddMembership: z.object({ teamId: id, membershipId: id, userId: id, role }).strict(),
  ModifyMembership: z.object({ teamId: id, membershipId: id, role }).strict(),
  DestroyMembership: z.object({ teamId: id, membershipId: id }).strict(),
});
export const teamEvents = eventSet('teams', 'teamId', {
  TeamAdded: z.object({ teamId: id, name, userId: id, membershipId: id }).strict(),
  MembershipCreated: z.object({ teamId: id, membershipId: id, userId: id, role }).strict(),
  MembershipUpdated: z
    .object({ teamId: id, membershipId: id, userId: id, role, previousRole: role })
    .strict(),
  MembershipDeleted: z.object({ teamId: id, membershipId: id, userId: id, role }).strict(),
});

export type UserCommand = MessageOf<typeof userCommands.schemas>;
export type UserEvent = MessageOf<typeof userEvents.schemas>;
export type EmailEvent = MessageOf<typeof emailEvents.schemas>;
export type TeamCommand = MessageOf<typeof teamCommands.schemas>;
export type TeamEvent = MessageOf<typeof teamEvents.schemas>;
