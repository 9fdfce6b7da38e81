import { createHash } from 'node:crypto';
import {
  emailEvents,
  reject,
  unreachable,
  type DraftOf,
  type EmailEvent,
  type EntityType,
  type Rejection,
} from '@devpie/client-events';

/** The same normalisation as the `email` field rule, so that one address has one entity. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** `emails.<sha256 hex>`: an address itself cannot be a subject token (it holds dots and `@`). */
export const emailEntityId = (email: string): string =>
  createHash('sha256').update(normalizeEmail(email)).digest('hex');

export type EmailState = { status: 'free' } | { status: 'reserved'; email: string; userId: string };

export type EmailReservedDraft = Extract<DraftOf<EmailEvent>, { type: 'EmailReserved' }>;

export const initialEmailState = (): EmailState => ({ status: 'free' });

export function evolveEmail(state: EmailState, event: EmailEvent): EmailState {
  switch (event.type) {
    case 'EmailReserved':
      return { status: 'reserved', email: event.data.email, userId: event.data.userId };
    case 'CommandRejected':
      return state;
    default:
      return unreachable(event);
  }
}

/**
 * Reserving first is what makes an address unique. `undefined` means nothing to write: the address
 * is already this user's (a retried sign-up).
 */
export function reserveEmail(
  state: EmailState,
  email: string,
  userId: string,
): EmailReservedDraft | Rejection | undefined {
  if (state.status === 'free')
    return { type: 'EmailReserved', data: { email: normalizeEmail(email), userId } };
  if (state.userId === userId) return undefined;
  return reject('EmailTaken', 'the email address is already in use');
}

export const emailEntity: EntityType<EmailState> = {
  category: 'emails',
  events: emailEvents,
  stateVersion: 1,
  initialState: initialEmailState,
  // the entity store parses every event against `emailEvents` before evolving
  evolve: (state, event) => evolveEmail(state, event as EmailEvent),
};
