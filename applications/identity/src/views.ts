import type { Pool } from 'pg';
import { ident } from '@devpie/client-events';
import type { CredentialsDoc, MembershipDoc, TeamDoc, UserDoc } from '@devpie/identity-aggregator';

export type Role = MembershipDoc['role'];

/** Read-only queries over the identity views (schema owned by the identity aggregator). */
export class IdentityViews {
  private readonly s: string;
  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.s = ident(schema);
  }

  async user(id: string): Promise<UserDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: UserDoc }>(
      `SELECT doc FROM ${this.s}.users WHERE id = $1`,
      [id],
    );
    return rows[0]?.doc;
  }

  async userByEmail(email: string): Promise<UserDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: UserDoc }>(
      `SELECT doc FROM ${this.s}.users WHERE email = $1`,
      [email],
    );
    return rows[0]?.doc;
  }

  async credentials(email: string): Promise<CredentialsDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: CredentialsDoc }>(
      `SELECT doc FROM ${this.s}.credentials WHERE email = $1`,
      [email],
    );
    return rows[0]?.doc;
  }

  /** The teams a user belongs to, with the user's role: one indexed query. */
  async teamsOf(userId: string): Promise<(TeamDoc & { role: Role; membershipId: string })[]> {
    const { rows } = await this.pool.query<{ team: TeamDoc; membership: MembershipDoc }>(
      `SELECT t.doc AS team, m.doc AS membership FROM ${this.s}.memberships m
       JOIN ${this.s}.teams t ON t.id = m.team_id WHERE m.user_id = $1 ORDER BY t.doc->>'name', t.id`,
      [userId],
    );
    return rows.map((r) => ({ ...r.team, role: r.membership.role, membershipId: r.membership.id }));
  }

  async membershipOf(teamId: string, userId: string): Promise<MembershipDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: MembershipDoc }>(
      `SELECT doc FROM ${this.s}.memberships WHERE team_id = $1 AND user_id = $2`,
      [teamId, userId],
    );
    return rows[0]?.doc;
  }

  async membership(id: string): Promise<MembershipDoc | undefined> {
    const { rows } = await this.pool.query<{ doc: MembershipDoc }>(
      `SELECT doc FROM ${this.s}.memberships WHERE id = $1`,
      [id],
    );
    return rows[0]?.doc;
  }

  /** A team's members with their profile names and addresses. */
  async members(teamId: string) {
    const { rows } = await this.pool.query<{ membership: MembershipDoc; user: UserDoc | null }>(
      `SELECT m.doc AS membership, u.doc AS user FROM ${this.s}.memberships m
       LEFT JOIN ${this.s}.users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY m.doc->>'createdAt', m.id`,
      [teamId],
    );
    return rows.map((r) => ({
      ...r.membership,
      email: r.user?.email ?? null,
      firstName: r.user?.firstName ?? null,
      lastName: r.user?.lastName ?? null,
    }));
  }

  async ping(): Promise<boolean> {
    await this.pool.query('SELECT 1');
    return true;
  }
}
