import { z } from 'zod';
import { eventSet, messageSet, type MessageOf } from '../registry';
import { id } from './fields';

export const MAX_HOURS = 10_000;
/** Hours in hundredths (centihours): exact integers, no binary fractions in the maths. */
export const hours = z
  .number()
  .min(0)
  .max(MAX_HOURS)
  .refine((h) => Number.isInteger(Math.round(h * 100)) && Math.abs(h * 100 - Math.round(h * 100)) < 1e-6, {
    message: 'at most two decimal places',
  });
/** ISO 4217 code; the minor-unit exponent comes from Intl. */
export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .refine((c) => Intl.supportedValuesOf('currency').includes(c), 'an ISO 4217 currency code');
/** Amount in minor units of the currency (cents), an integer. */
export const minorUnits = z.number().int().min(0).max(1_000_000_000);

const threePoint = z
  .object({ optimistic: hours, likely: hours, pessimistic: hours })
  .refine((e) => e.optimistic <= e.likely && e.likely <= e.pessimistic, {
    message: 'optimistic ≤ likely ≤ pessimistic',
    path: ['likely'],
  });

export const estimateCommands = messageSet('estimates', 'command', 'projectId', {
  /** Issued by the estimation reactor when Projects adds a project. */
  OpenEstimate: z.object({ projectId: id, ownerId: id, teamId: id.nullable() }).strict(),
  /** Issued by the estimation reactor when Projects adds a task. */
  RegisterTask: z.object({ projectId: id, taskId: id }).strict(),
  SetRate: z.object({ projectId: id, hourlyRate: minorUnits, currency }).strict(),
  EstimateTask: z.object({ projectId: id, taskId: id, estimate: threePoint }).strict(),
  RemoveTaskEstimate: z.object({ projectId: id, taskId: id }).strict(),
  ArchiveEstimate: z.object({ projectId: id }).strict(),
});

export const estimateEvents = eventSet('estimates', 'projectId', {
  EstimateOpened: z.object({ projectId: id, ownerId: id, teamId: id.nullable() }).strict(),
  TaskRegistered: z.object({ projectId: id, taskId: id }).strict(),
  RateSet: z.object({ projectId: id, hourlyRate: minorUnits, currency }).strict(),
  TaskEstimated: z
    .object({ projectId: id, taskId: id, estimate: threePoint, revision: z.number().int().positive() })
    .strict(),
  TaskEstimateRemoved: z.object({ projectId: id, taskId: id }).strict(),
  EstimateArchived: z.object({ projectId: id }).strict(),
});

export type EstimateCommand = MessageOf<typeof estimateCommands.schemas>;
export type EstimateEvent = MessageOf<typeof estimateEvents.schemas>;
