import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import {
  deterministicId,
  envelope,
  ident,
  newId,
  publishCommand,
  subscribeNotices,
  UUID_PATTERN,
  type AnyMessageSet,
  type Messaging,
  type Notice,
} from '@devpie/client-events';
import { HttpProblem, notFound } from './problem';

export interface Outcome {
  status: 'accepted' | 'rejected';
  reason?: string;
  message?: string;
}

export interface Sent {
  commandId: string;
  /** Ids the request creates, stable across retries with the same Idempotency-Key. */
  newId(purpose: string): string;
  outcome?: Outcome;
  /** How long the client asked to wait (seconds), 0 when it did not. */
  waited: number;
}

export interface GatewayOptions {
  messaging: Messaging;
  pool: Pool;
  /** The aggregator whose views this app reads: its notices tell outcomes. */
  aggregator: string;
  /** Namespaced schema of that aggregator's views (holds command_outcomes). */
  viewSchema: string;
  /** Namespaced schema this app owns (its record of submitted commands). */
  appSchema: string;
  maxWaitSeconds?: number;
}

const REJECTION_STATUS: Record<string, number> = {
  NotFound: 404,
  Forbidden: 403,
  EmailTaken: 409,
  AlreadyExists: 409,
  AlreadyMember: 409,
};

/** A business rejection as problem details: 409 for conflicts, 404/403 where they mean that, else 422. */
export function rejectionProblem(outcome: Outcome): HttpProblem {
  const status = REJECTION_STATUS[outcome.reason ?? ''] ?? 422;
  return new HttpProblem(status, 'Command rejected', outcome.message, { reason: outcome.reason });
}

/** `Prefer: wait=<seconds>` (RFC 7240), capped. */
export function preferredWait(req: Request, max: number): number {
  const m = /(?:^|[,;\s])wait=(\d+)/.exec(String(req.headers.prefer ?? ''));
  return m ? Math.min(max, Number(m[1])) : 0;
}

/**
 * How an application writes: it builds the command envelope (actor, trace, time), honours
 * `Idempotency-Key` (the same key and request give the same command id, once), publishes, and with
 * `Prefer: wait` waits for the aggregator's notice that the outcome and the view are committed.
 */
export class CommandGateway {
  private readonly waiters = new Map<string, Set<(o: Outcome) => void>>();
  private notices?: { close(): void };
  private readonly maxWait: number;

  constructor(private readonly opts: GatewayOptions) {
    this.maxWait = opts.maxWaitSeconds ?? 30;
  }

  async start(): Promise<void> {
    const s = ident(this.opts.appSchema);
    await this.opts.pool.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await this.opts.pool.query(
      `CREATE TABLE IF NOT EXISTS ${s}.commands (command_id uuid PRIMARY KEY, user_id text, type text NOT NULL, entity text NOT NULL, request_hash text NOT NULL, submitted_at timestamptz NOT NULL DEFAULT now())`,
    );
    this.notices = subscribeNotices(this.opts.messaging, this.opts.aggregator, (n) => this.onNotice(n));
  }

  stop(): void {
    this.notices?.close();
  }

  private onNotice(notice: Notice) {
    // a rebuild writing another schema must not release a request before the views it reads change
    if (notice.schema !== this.opts.viewSchema) return;
    for (const c of notice.commands) {
      const waiting = this.waiters.get(c.commandId);
      if (!waiting) continue;
      this.waiters.delete(c.commandId);
      const outcome: Outcome = { status: c.status, reason: c.reason };
      for (const resolve of waiting) resolve(outcome);
    }
  }

  /** The recorded outcome of a command, if its aggregator has committed one. */
  async outcome(commandId: string): Promise<Outcome | undefined> {
    const { rows } = await this.opts.pool.query<{
      status: Outcome['status'];
      reason: string | null;
      message: string | null;
    }>(
      `SELECT status, reason, message FROM ${ident(this.opts.viewSchema)}.command_outcomes WHERE command_id = $1`,
      [commandId],
    );
    const r = rows[0];
    return r
      ? { status: r.status, reason: r.reason ?? undefined, message: r.message ?? undefined }
      : undefined;
  }

  /**
   * Resolves with the outcome once committed, or undefined after `seconds`. `unsent`: the command
   * is not published yet (its record was just made), so no outcome can be recorded already.
   */
  async waitFor(commandId: string, seconds: number, unsent = false): Promise<Outcome | undefined> {
    let resolve!: (o: Outcome | undefined) => void;
    const arrived = new Promise<Outcome | undefined>((r) => (resolve = r));
    const set = this.waiters.get(commandId) ?? new Set();
    set.add(resolve);
    this.waiters.set(commandId, set);
    const timer = setTimeout(() => resolve(undefined), seconds * 1000);
    try {
      // it may be committed already (a retried request), or the notice may have been missed
      const known = unsent ? undefined : await this.outcome(commandId);
      if (known) return known;
      const o = await arrived;
      return o && o.status === 'rejected' ? ((await this.outcome(commandId)) ?? o) : o;
    } finally {
      clearTimeout(timer);
      set.delete(resolve);
      if (set.size === 0 && this.waiters.get(commandId) === set) this.waiters.delete(commandId);
    }
  }

  /**
   * Sends one command. `build` receives the command id and a function for new entity ids (both
   * derived from the Idempotency-Key when there is one) and returns the command's data.
   */
  async send(
    req: Request,
    res: Response,
    commands: AnyMessageSet,
    type: string,
    userId: string | null,
    build: (ids: { commandId: string; newId(purpose: string): string }) => Record<string, unknown>,
  ): Promise<Sent> {
    const key = req.get('Idempotency-Key');
    if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new HttpProblem(
        400,
        'Invalid request',
        'Idempotency-Key must be 1–255 visible ASCII characters',
        {
          errors: [{ path: 'header.Idempotency-Key', message: 'invalid' }],
        },
      );
    }
    const commandId = key
      ? deterministicId(
          `idempotency:${userId ?? 'anonymous'}:${req.method} ${req.baseUrl}${req.route?.path ?? req.path}`,
          key,
        )
      : newId();
    const ids = {
      commandId,
      newId: (purpose: string) => (key ? deterministicId(commandId, purpose) : newId()),
    };
    const data = build(ids);
    const command = envelope(
      type,
      data,
      { userId, traceId: String(req.id ?? commandId), correlationId: commandId },
      commandId,
    );
    const requestHash = createHash('sha256')
      .update(JSON.stringify([type, req.params, req.body ?? null]))
      .digest('hex');
    const entity = `${commands.category}.${commands.entityId(data)}`;
    const inserted = await this.opts.pool.query(
      `INSERT INTO ${ident(this.opts.appSchema)}.commands (command_id, user_id, type, entity, request_hash)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (command_id) DO NOTHING`,
      [commandId, userId, type, entity, requestHash],
    );
    if (inserted.rowCount === 0) {
      const { rows } = await this.opts.pool.query<{ request_hash: string }>(
        `SELECT request_hash FROM ${ident(this.opts.appSchema)}.commands WHERE command_id = $1`,
        [commandId],
      );
      if (rows[0]?.request_hash !== requestHash) {
        throw new HttpProblem(
          422,
          'Idempotency-Key reused',
          'This Idempotency-Key was used for a different request',
          {
            reason: 'IdempotencyKeyReused',
          },
        );
      }
    }
    const waited = preferredWait(req, this.maxWait);
    const unsent = inserted.rowCount === 1;
    const waiting = waited > 0 ? this.waitFor(commandId, waited, unsent) : undefined;
    await publishCommand(this.opts.messaging, commands, command);
    res.setHeader('Location', `/api/v1/commands/${commandId}`);
    if (waited > 0) res.setHeader('Preference-Applied', `wait=${waited}`);
    return { commandId, newId: ids.newId, outcome: await waiting, waited };
  }

  /** `GET /api/v1/commands/:commandId`: only the user who sent a command may see it. */
  async status(commandId: string, userId: string | null) {
    if (!UUID_PATTERN.test(commandId)) throw notFound('No such command');
    const { rows } = await this.opts.pool.query<{
      user_id: string | null;
      type: string;
      entity: string;
      submitted_at: Date;
    }>(
      `SELECT user_id, type, entity, submitted_at FROM ${ident(this.opts.appSchema)}.commands WHERE command_id = $1`,
      [commandId],
    );
    const sent = rows[0];
    if (!sent || sent.user_id !== userId) throw notFound('No such command');
    const outcome = await this.outcome(commandId);
    return {
      commandId,
      type: sent.type,
      entity: sent.entity,
      submittedAt: sent.submitted_at.toISOString(),
      status: outcome?.status ?? 'pending',
      ...(outcome?.reason ? { reason: outcome.reason, message: outcome.message } : {}),
    };
  }
}
