import { z } from 'zod';
import { text } from './contexts/fields';

/** Why a component refused a command. Stable codes a client can act on. */
export const REJECTION_REASONS = [
  'NotFound',
  'AlreadyExists',
  'Forbidden',
  'InvalidTransition',
  'EmailTaken',
  'AlreadyMember',
  'LastAdministrator',
  'ColumnNotFound',
  'ColumnNotEmpty',
  'TaskNotFound',
  'IndexOutOfRange',
  'ProjectDestroyed',
  'EstimateArchived',
] as const;
export const rejectionReasonSchema = z.enum(REJECTION_REASONS);
export type RejectionReason = z.infer<typeof rejectionReasonSchema>;

export interface Rejection {
  readonly kind: 'rejection';
  readonly reason: RejectionReason;
  readonly message: string;
}

export const reject = (reason: RejectionReason, message: string): Rejection => ({
  kind: 'rejection',
  reason,
  message,
});
export const isRejection = (v: unknown): v is Rejection =>
  typeof v === 'object' && v !== null && (v as Rejection).kind === 'rejection';

/** Written on the entity's subject when a command is refused, so the refusal is recorded, never dropped. */
export const commandRejectedSchema = z
  .object({
    commandId: z.uuid(),
    commandType: text(),
    reason: rejectionReasonSchema,
    message: text().max(1000),
  })
  .strict();
export type CommandRejected = z.infer<typeof commandRejectedSchema>;
export const COMMAND_REJECTED = 'CommandRejected';
