import { hash as digest, randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

/**
 * A name-based UUID (RFC 9562 version 5, SHA-1) so that the same input always yields the same id:
 * events derived from a command, commands derived from an event or an Idempotency-Key.
 */
export function deterministicId(namespace: string, name: string): string {
  const hash = digest('sha1', `${namespace}\u0000${name}`, 'buffer');
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
