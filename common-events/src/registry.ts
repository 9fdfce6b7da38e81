import { z } from 'zod';
import { type Envelope, envelopeSchema } from './envelope';
import { PayloadTooLargeError, UnknownMessageTypeError, ValidationError } from './errors';
import type { Category } from './names';
import { COMMAND_REJECTED, commandRejectedSchema } from './rejections';

export type Schemas = Record<string, z.ZodType>;

/** The envelope union of a set of message schemas, discriminated by `type`. */
export type MessageOf<S extends Schemas> = {
  [K in keyof S & string]: Envelope<K, z.output<S[K]>>;
}[keyof S & string];

export type DataOf<S extends Schemas, K extends keyof S> = z.output<S[K]>;

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

export function issuesOf(error: z.ZodError, prefix = ''): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: i.message,
  }));
}

/** Any category's commands or events, whatever its schemas: what the runtime takes. */
export interface AnyMessageSet {
  readonly category: Category;
  readonly kind: 'command' | 'event';
  readonly schemas: Schemas;
  readonly types: readonly string[];
  has(type: string): boolean;
  /** Validates an envelope and its data; throws ValidationError or UnknownMessageTypeError. */
  parse(raw: unknown): Envelope;
  /** The entity a message is about (the `<id>` of `projects.<id>`), read from `data[entityKey]`. */
  entityId(data: unknown): string;
}

/** The commands or the events of one category: how they are named and validated. */
export interface MessageSet<S extends Schemas> extends AnyMessageSet {
  readonly schemas: S;
  readonly types: (keyof S & string)[];
  has(type: string): type is keyof S & string;
  parse(raw: unknown): MessageOf<S>;
}

export function messageSet<S extends Schemas>(
  category: Category,
  kind: 'command' | 'event',
  entityKey: string,
  schemas: S,
): MessageSet<S> {
  const has = (type: string): type is keyof S & string => Object.prototype.hasOwnProperty.call(schemas, type);
  return {
    category,
    kind,
    schemas,
    types: Object.keys(schemas) as (keyof S & string)[],
    has,
    entityId(data: unknown): string {
      const id = (data as Record<string, unknown> | null)?.[entityKey];
      if (typeof id !== 'string')
        throw new ValidationError('no entity id', [{ path: `data.${entityKey}`, message: 'required' }]);
      return id;
    },
    parse(raw: unknown): MessageOf<S> {
      const env = envelopeSchema.safeParse(raw);
      if (!env.success) throw new ValidationError('invalid envelope', issuesOf(env.error));
      if (!has(env.data.type)) throw new UnknownMessageTypeError(env.data.type);
      const data = schemas[env.data.type]!.safeParse(env.data.data);
      if (!data.success) {
        throw new ValidationError(`invalid ${env.data.type}`, issuesOf(data.error, 'data'));
      }
      const { id, type, metadata } = env.data;
      return { id, type, data: data.data, metadata } as MessageOf<S>;
    },
  };
}

/** Every category's event set also holds the recorded rejections of its commands. */
export function eventSet<S extends Schemas>(category: Category, entityKey: string, schemas: S) {
  return messageSet(category, 'event', entityKey, {
    ...schemas,
    [COMMAND_REJECTED]: commandRejectedSchema,
  } as S & {
    CommandRejected: typeof commandRejectedSchema;
  });
}

export function encode(message: Envelope, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(message));
  if (bytes.byteLength > maxBytes) throw new PayloadTooLargeError(bytes.byteLength, maxBytes);
  return bytes;
}

/** Bytes to JSON; a size or syntax problem is a ValidationError so the runner parks it. */
export function decode(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): unknown {
  if (bytes.byteLength > maxBytes) throw new PayloadTooLargeError(bytes.byteLength, maxBytes);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (cause) {
    throw new ValidationError('message is not JSON', [{ path: '(root)', message: String(cause) }], { cause });
  }
}
