import type { fields } from '@devpie/client-events';

/** The view documents the Identity app reads. Timestamps are the events' metadata times. */
export type UserDoc = {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  locale: string | null;
  picture: string | null;
  createdAt: string;
  updatedAt: string;
};

export type CredentialsDoc = { userId: string; email: string; passwordHash: string };

export type TeamDoc = {
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  memberCount: number;
};

export type MembershipDoc = {
  id: string;
  teamId: string;
  userId: string;
  role: fields.Role;
  createdAt: string;
  updatedAt: string;
};
