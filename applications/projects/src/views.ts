import type { Pool } from 'pg';
import { childrenSql, ident, joinDoc, type Doc, type fields } from '@devpie/client-events';
import {
  boardStorage,
  PROJECTS,
  TASKS,
  TEAM_MEMBERS,
  teamMemberId,
  type ProjectDoc,
  type TeamMemberDoc,
} from '@devpie/projects-aggregator';

/** A project in a list: the board without its columns and tasks. */
export type ProjectSummary = Omit<ProjectDoc, 'columns'> & { columnCount: number };

export type SortOrder = 'name' | 'updated';

/** Where a page of `GET /projects` starts: after the row with this sort key and id. */
export interface Cursor {
  sort: SortOrder;
  key: string;
  id: string;
}

export interface ListOptions {
  sort: SortOrder;
  active?: boolean;
  after?: Cursor;
  limit: number;
}

/** Keyset pagination: name ascending, or last update first; the id breaks ties. */
const ORDER: Record<SortOrder, { column: string; direction: 'ASC' | 'DESC'; compare: '>' | '<' }> = {
  name: { column: 'name_sort', direction: 'ASC', compare: '>' },
  updated: { column: 'updated_sort', direction: 'DESC', compare: '<' },
};

/**
 * Read-only queries over the projects views (schema owned by the projects aggregator). Access
 * comes from the same schema's `team_members`: this app never reads Identity's views.
 */
export class ProjectsViews {
  private readonly projects: string;
  private readonly tasks: string;
  private readonly members: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.projects = `${ident(schema)}.${ident(PROJECTS)}`;
    this.tasks = `${ident(schema)}.${ident(TASKS)}`;
    this.members = `${ident(schema)}.${ident(TEAM_MEMBERS)}`;
  }

  /** The board's stored header and its tasks, read in one statement (one snapshot). */
  private withTasks(alias: string): string {
    return `${childrenSql(this.tasks, alias)} AS tasks`;
  }

  async project(id: string): Promise<ProjectDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: Doc; tasks: Doc[] }>(
      `SELECT p.doc, ${this.withTasks('p')} FROM ${this.projects} p WHERE p.id = $1`,
      [id],
    );
    const r = rows[0];
    return r ? (joinDoc(boardStorage, r.doc, r.tasks) as ProjectDoc) : undefined;
  }

  /** A project with the user's role on its team (null for a personal project or a non-member). */
  async projectFor(
    id: string,
    userId: string,
  ): Promise<{ project: ProjectDoc; role: fields.Role | undefined } | undefined> {
    const { rows } = await this.pool.query<{ doc: Doc; tasks: Doc[]; role: fields.Role | null }>(
      `SELECT p.doc, ${this.withTasks('p')}, m.doc->>'role' AS role FROM ${this.projects} p
       LEFT JOIN ${this.members} m ON m.team_id = p.team_id AND m.user_id = $2
       WHERE p.id = $1`,
      [id, userId],
    );
    const r = rows[0];
    return r
      ? { project: joinDoc(boardStorage, r.doc, r.tasks) as ProjectDoc, role: r.role ?? undefined }
      : undefined;
  }

  /**
   * Who owns a project and the user's role on its team, from the board's row alone (a write needs
   * no more to be allowed; the board with its tasks is read for the answer).
   */
  async ownershipFor(
    id: string,
    userId: string,
  ): Promise<{ ownerId: string; teamId: string | null; role: fields.Role | undefined } | undefined> {
    const { rows } = await this.pool.query<{
      owner_id: string;
      team_id: string | null;
      role: fields.Role | null;
    }>(
      `SELECT p.owner_id, p.team_id, m.doc->>'role' AS role FROM ${this.projects} p
       LEFT JOIN ${this.members} m ON m.team_id = p.team_id AND m.user_id = $2
       WHERE p.id = $1`,
      [id, userId],
    );
    const r = rows[0];
    return r ? { ownerId: r.owner_id, teamId: r.team_id, role: r.role ?? undefined } : undefined;
  }

  async member(teamId: string, userId: string): Promise<TeamMemberDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: TeamMemberDoc }>(
      `SELECT doc FROM ${this.members} WHERE id = $1`,
      [teamMemberId(teamId, userId)],
    );
    return rows[0]?.doc;
  }

  /**
   * The user's projects: their personal ones and every project of a team they belong to, one
   * page of `limit` in the chosen order, and the cursor of the next page when there is one.
   */
  async list(
    userId: string,
    opts: ListOptions,
  ): Promise<{ items: { project: ProjectSummary; role: fields.Role | undefined }[]; next?: Cursor }> {
    const order = ORDER[opts.sort];
    const params: unknown[] = [userId, opts.active ?? null, opts.limit + 1];
    let after = '';
    if (opts.after) {
      params.push(opts.after.key, opts.after.id);
      after = `AND (p.${order.column}, p.id) ${order.compare} ($4, $5)`;
    }
    const { rows } = await this.pool.query<{ doc: ProjectSummary; role: fields.Role | null; key: string }>(
      `SELECT (p.doc - 'columns') || jsonb_build_object('columnCount', jsonb_array_length(p.doc->'columns')) AS doc,
              m.doc->>'role' AS role, p.${order.column} AS key
       FROM ${this.projects} p
       LEFT JOIN ${this.members} m ON m.team_id = p.team_id AND m.user_id = $1
       WHERE ((p.team_id IS NULL AND p.owner_id = $1) OR m.id IS NOT NULL)
         AND ($2::boolean IS NULL OR p.active = $2)
         ${after}
       ORDER BY p.${order.column} ${order.direction}, p.id ${order.direction}
       LIMIT $3`,
      params,
    );
    const page = rows.slice(0, opts.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({ project: r.doc, role: r.role ?? undefined })),
      next:
        rows.length > opts.limit && last ? { sort: opts.sort, key: last.key, id: last.doc.id } : undefined,
    };
  }

  async ping(): Promise<boolean> {
    await this.pool.query('SELECT 1');
    return true;
  }
}
