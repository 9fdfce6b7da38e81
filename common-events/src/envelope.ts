import { z } from 'zod';
import { text } from './contexts/fields';
import { newId } from './ids';

export const SCHEMA_VERSION = 1;

export const metadataSchema = z
  .object({
    traceId: z.string().min(1).max(128),
    // a view may store who acted (an estimate's history): text Postgres can store. The other ids
    // reach no view (an outcome's command id is a causation id only when it is a uuid).
    userId: text().min(1).max(128).nullable(),
    correlationId: z.string().min(1).max(128),
    causationId: z.string().min(1).max(128).nullable(),
    time: z.iso.datetime({ offset: true }),
    schemaVersion: z.number().int().positive(),
  })
  .strict();
export type Metadata = z.infer<typeof metadataSchema>;

export const envelopeSchema = z
  .object({
    id: z.uuid(),
    type: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/, 'a PascalCase message type'),
    data: z.unknown(),
    metadata: metadataSchema,
  })
  .strict();

export interface Envelope<T extends string = string, D = unknown> {
  id: string;
  type: T;
  data: D;
  metadata: Metadata;
}

/** Where a command comes from: who asked, and the trace it belongs to. */
export interface Origin {
  userId: string | null;
  traceId?: string;
  correlationId?: string;
  causationId?: string | null;
  /** defaults to now */
  time?: string;
}

export function envelope<T extends string, D>(
  type: T,
  data: D,
  origin: Origin,
  id: string = newId(),
): Envelope<T, D> {
  return {
    id,
    type,
    data,
    metadata: {
      traceId: origin.traceId ?? id,
      userId: origin.userId,
      correlationId: origin.correlationId ?? id,
      causationId: origin.causationId ?? null,
      time: origin.time ?? new Date().toISOString(),
      schemaVersion: SCHEMA_VERSION,
    },
  };
}

/** Metadata of a message caused by `cause` (an event caused by a command, a command by an event). */
export function causedBy(cause: Envelope, userId: string | null = cause.metadata.userId): Origin {
  return {
    userId,
    traceId: cause.metadata.traceId,
    correlationId: cause.metadata.correlationId,
    causationId: cause.id,
    time: cause.metadata.time,
  };
}
