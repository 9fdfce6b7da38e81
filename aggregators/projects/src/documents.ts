import type { fields } from '@devpie/client-events';

/** The view documents the Projects app reads. Timestamps are the events' metadata times, in UTC. */
export type TaskDoc = {
  id: string;
  key: string;
  number: number;
  title: string;
  content: string;
  assigneeId: string | null;
  columnId: string;
};

export type ColumnDoc = { id: string; title: string; tasks: TaskDoc[] };

/** The board as `GET /projects/:projectId` returns it: columns in order, each with its tasks in order. */
export type ProjectDoc = {
  id: string;
  ownerId: string;
  teamId: string | null;
  name: string;
  description: string;
  prefix: string;
  public: boolean;
  active: boolean;
  columns: ColumnDoc[];
  taskCount: number;
  createdAt: string;
  updatedAt: string;
  /** Stream position of the last event folded in. */
  version: number;
};

/** Who may see and change a team's projects: the projects context's own copy of memberships. */
export type TeamMemberDoc = {
  teamId: string;
  userId: string;
  role: fields.Role;
  membershipId: string;
};
