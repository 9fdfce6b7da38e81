import { z } from 'zod';

/** Field rules shared by commands, events and HTTP bodies; limits are documented in each contract.md. */
export const id = z.uuid();
export const name = z.string().trim().min(1).max(100);
export const email = z.string().trim().toLowerCase().max(254).pipe(z.email());
export const locale = z.string().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a locale such as "en" or "en-US"');
export const url = z.url().max(2048);
export const ROLES = ['administrator', 'editor', 'commenter', 'viewer'] as const;
export const role = z.enum(ROLES);
export type Role = z.infer<typeof role>;
