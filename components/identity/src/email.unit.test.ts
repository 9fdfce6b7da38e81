import { emailEvents, newId } from '@devpie/client-events';
import { msg } from '@devpie/client-events/testing';
import { emailEntity, emailEntityId, reserveEmail, type EmailState } from './email';

describe('emailEntityId', () => {
  it('is the sha256 hex of the normalised address', () => {
    expect(emailEntityId('ada@example.com')).toMatch(/^[0-9a-f]{64}$/);
    expect(emailEntityId('  Ada@Example.COM ')).toBe(emailEntityId('ada@example.com'));
    expect(emailEntityId('ada@example.com')).not.toBe(emailEntityId('ada@example.org'));
  });
});

describe('reserveEmail', () => {
  const reservedBy = (userId: string): EmailState => ({
    status: 'reserved',
    email: 'ada@example.com',
    userId,
  });

  it('reserves a free address for the user, normalised', () => {
    const userId = newId();
    const draft = reserveEmail(emailEntity.initialState(), ' Ada@Example.com', userId);
    expect(draft).toEqual({ type: 'EmailReserved', data: { email: 'ada@example.com', userId } });
    expect(() => emailEvents.parse(msg('EmailReserved', { email: 'ada@example.com', userId }))).not.toThrow();
  });

  it('has nothing to write when the address already belongs to the same user', () => {
    const userId = newId();
    expect(reserveEmail(reservedBy(userId), 'ada@example.com', userId)).toBeUndefined();
  });

  it('rejects an address reserved by another user', () => {
    expect(reserveEmail(reservedBy(newId()), 'ada@example.com', newId())).toMatchObject({
      kind: 'rejection',
      reason: 'EmailTaken',
    });
  });
});

describe('emailEntity', () => {
  it('is the emails category, free until reserved', () => {
    expect(emailEntity).toMatchObject({ category: 'emails', stateVersion: 1 });
    const userId = newId();
    const reserved = emailEntity.evolve(
      emailEntity.initialState(),
      emailEvents.parse(msg('EmailReserved', { email: 'ada@example.com', userId })),
    );
    expect(reserved).toEqual({ status: 'reserved', email: 'ada@example.com', userId });
  });
});
