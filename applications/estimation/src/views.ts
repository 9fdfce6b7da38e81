import type { Pool } from 'pg';
import { childRowId, childrenSql, ident, joinDoc, type Doc, type fields } from '@devpie/client-events';
import {
  ESTIMATE_HISTORY,
  ESTIMATE_LINES,
  ESTIMATES,
  estimateStorage,
  TEAM_MEMBERS,
  type EstimateDoc,
  type EstimateHistoryDoc,
  type EstimateLine,
} from '@devpie/estimation-aggregator';

export type HistoryRow = EstimateHistoryDoc & { id: string };

/** What a write needs of an estimate: who may change it, its state, and the one line it names. */
export interface WriteTarget {
  ownerId: string | null;
  teamId: string | null;
  /** the user's role on the project's team */
  role: fields.Role | undefined;
  opened: boolean;
  archived: boolean;
  /** the line of the task the write names, if it has one */
  line: EstimateLine | undefined;
}

/**
 * Read-only queries over the estimation views (schema owned by the estimation aggregator). Who
 * owns a project and who is in its team come from the same schema: this app reads no other
 * context's views.
 */
export class EstimationViews {
  private readonly estimates: string;
  private readonly lines: string;
  private readonly history: string;
  private readonly members: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    const s = ident(schema);
    this.estimates = `${s}.${ident(ESTIMATES)}`;
    this.lines = `${s}.${ident(ESTIMATE_LINES)}`;
    this.history = `${s}.${ident(ESTIMATE_HISTORY)}`;
    this.members = `${s}.${ident(TEAM_MEMBERS)}`;
  }

  /** The estimate's stored header and its lines, read in one statement (one snapshot). */
  private withLines(alias: string): string {
    return `${childrenSql(this.lines, alias)} AS lines`;
  }

  async estimate(projectId: string): Promise<EstimateDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: Doc; lines: Doc[] }>(
      `SELECT e.doc, ${this.withLines('e')} FROM ${this.estimates} e WHERE e.id = $1`,
      [projectId],
    );
    const r = rows[0];
    return r ? (joinDoc(estimateStorage, r.doc, r.lines) as EstimateDoc) : undefined;
  }

  /** A project's estimate with the user's role on its team (undefined for a personal project or a non-member). */
  async estimateFor(
    projectId: string,
    userId: string,
  ): Promise<{ estimate: EstimateDoc; role: fields.Role | undefined } | undefined> {
    const { rows } = await this.pool.query<{ doc: Doc; lines: Doc[]; role: fields.Role | null }>(
      `SELECT e.doc, ${this.withLines('e')}, m.doc->>'role' AS role FROM ${this.estimates} e
       LEFT JOIN ${this.members} m ON m.team_id = e.team_id AND m.user_id = $2
       WHERE e.id = $1`,
      [projectId, userId],
    );
    const r = rows[0];
    return r
      ? { estimate: joinDoc(estimateStorage, r.doc, r.lines) as EstimateDoc, role: r.role ?? undefined }
      : undefined;
  }

  /**
   * An estimate for a write, in one statement without its lines: the header row's owner, team and
   * state, the user's membership, and the row of the one line named (an estimate's lines made a
   * write cost as much as reading the whole estimate: `PUT …/rate` on a project of 1,500 tasks
   * answered 36 requests/s).
   */
  async writeTarget(projectId: string, userId: string, taskId?: string): Promise<WriteTarget | undefined> {
    const { rows } = await this.pool.query<{
      owner_id: string | null;
      team_id: string | null;
      opened: boolean | null;
      archived: boolean | null;
      role: fields.Role | null;
      line: EstimateLine | null;
    }>(
      `SELECT e.owner_id, e.team_id, (e.doc->'opened')::boolean AS opened,
              (e.doc->'archived')::boolean AS archived, m.doc->>'role' AS role, l.doc AS line
       FROM ${this.estimates} e
       LEFT JOIN ${this.members} m ON m.team_id = e.team_id AND m.user_id = $2
       LEFT JOIN ${this.lines} l ON l.id = $3
       WHERE e.id = $1`,
      [projectId, userId, taskId === undefined ? null : childRowId(projectId, taskId)],
    );
    const r = rows[0];
    return r
      ? {
          ownerId: r.owner_id,
          teamId: r.team_id,
          role: r.role ?? undefined,
          opened: r.opened === true,
          archived: r.archived === true,
          line: r.line ?? undefined,
        }
      : undefined;
  }

  /** Every change to a project's estimate, in the order the events were written. */
  async historyOf(projectId: string): Promise<HistoryRow[]> {
    const { rows } = await this.pool.query<{ id: string; doc: EstimateHistoryDoc }>(
      `SELECT id, doc FROM ${this.history} WHERE project_id = $1 ORDER BY version, id`,
      [projectId],
    );
    return rows.map((r) => ({ id: r.id, ...r.doc }));
  }

  async ping(): Promise<boolean> {
    await this.pool.query('SELECT 1');
    return true;
  }
}
