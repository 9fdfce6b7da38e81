import { z } from 'zod';

/** Field rules shared by commands, events and HTTP bodies; limits are documented in each contract.md. */
export const id = z.uuid();

/** Whether Postgres can store the text: well-formed Unicode (no lone surrogate) without NUL. */
const storable = (s: string): boolean => s.isWellFormed() && !s.includes('\u0000');
const UNSTORABLE = 'must be well-formed Unicode text without the NUL character (U+0000)';

/**
 * Free text. Postgres stores neither the NUL character (U+0000) nor a lone UTF-16 surrogate, in
 * `text` or in a `jsonb` string (JSON.stringify writes one as a `\ud800` escape, which jsonb
 * refuses): a value with either, accepted, would fail its aggregator's batch on every attempt and
 * stop the views. So the contracts refuse it where it comes in (400 naming the field), and a
 * message that holds one anyway is unreadable (parked), never folded.
 */
export const text = () => z.string().refine(storable, UNSTORABLE);
export const name = text().trim().min(1).max(100);
export const email = z.string().trim().toLowerCase().max(254).pipe(z.email());
export const locale = z.string().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a locale such as "en" or "en-US"');
export const url = z.url().max(2048).refine(storable, UNSTORABLE);
export const ROLES = ['administrator', 'editor', 'commenter', 'viewer'] as const;
export const role = z.enum(ROLES);
export type Role = z.infer<typeof role>;
