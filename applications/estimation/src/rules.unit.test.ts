import { issuesOf } from '@devpie/client-events';
import { accessOf, canWrite } from './access';
import { toMinorUnits } from './money';
import { estimateBody, rateBody } from './routes/estimates';

describe('toMinorUnits', () => {
  test.each([
    ['95.50', 'EUR', 9550],
    ['95.5', 'EUR', 9550],
    [95.5, 'EUR', 9550],
    [0.29, 'EUR', 29], // 28.999999999999996 if multiplied in floats
    ['1.10', 'EUR', 110],
    ['95.500', 'EUR', 9550], // digits past the minor unit may be zeros
    ['0', 'EUR', 0],
    [1000, 'JPY', 1000],
    ['1000.0', 'JPY', 1000],
    ['12.345', 'KWD', 12_345],
    ['10000000', 'EUR', 1_000_000_000],
    [' 42 ', 'USD', 4200],
  ])('%j %s → %d minor units', (amount, currency, minor) => {
    expect(toMinorUnits(amount, currency)).toBe(minor);
  });

  test.each([
    ['95.555', 'EUR', 'EUR has 2 decimal places: at most 2 are allowed'],
    [0.1 + 0.2, 'EUR', 'EUR has 2 decimal places: at most 2 are allowed'],
    ['1000.5', 'JPY', 'JPY has no minor unit: a whole amount is required'],
    ['12.3456', 'KWD', 'KWD has 3 decimal places: at most 3 are allowed'],
    ['-1', 'EUR', 'must not be negative'],
    [-0.5, 'EUR', 'must not be negative'],
    ['1e3', 'EUR', 'must be an amount in major units, such as "95.50"'],
    [1e-7, 'EUR', 'must be an amount in major units, such as "95.50"'],
    ['1,000.00', 'EUR', 'must be an amount in major units, such as "95.50"'],
    ['', 'EUR', 'must be an amount in major units, such as "95.50"'],
    ['.5', 'EUR', 'must be an amount in major units, such as "95.50"'],
    ['10000000.01', 'EUR', 'must be at most 10000000.00'],
    ['1000000001', 'JPY', 'must be at most 1000000000'],
  ])('%j %s is refused: %s', (amount, currency, error) => {
    expect(toMinorUnits(amount, currency)).toEqual({ error });
  });
});

describe('rateBody', () => {
  const issues = (body: unknown) => {
    const r = rateBody.safeParse(body);
    return r.success ? [] : [...new Set(issuesOf(r.error, 'body').map((i) => i.path))];
  };

  test('gives minor units and an upper-case code', () => {
    expect(rateBody.parse({ hourlyRate: '120.25', currency: 'eur' })).toEqual({
      hourlyRate: 12_025,
      currency: 'EUR',
    });
  });

  test('names the field at fault', () => {
    expect(issues({ hourlyRate: '95', currency: 'XYZ' })).toEqual(['body.currency']);
    expect(issues({ hourlyRate: '95', currency: 'EURO' })).toEqual(['body.currency']);
    expect(issues({ hourlyRate: '95.123', currency: 'EUR' })).toEqual(['body.hourlyRate']);
    expect(issues({ hourlyRate: true, currency: 'EUR' })).toEqual(['body.hourlyRate']);
    expect(issues({ currency: 'EUR' })).toEqual(['body.hourlyRate']);
    expect(issues({ hourlyRate: 1, currency: 'EUR', extra: 1 })).toEqual(['body']);
  });
});

describe('estimateBody', () => {
  const issues = (body: unknown) => {
    const r = estimateBody.safeParse(body);
    return r.success ? [] : issuesOf(r.error, 'body').map((i) => i.path);
  };

  test('takes hours with up to two decimals in order', () => {
    expect(issues({ optimistic: 0, likely: 0.25, pessimistic: 10_000 })).toEqual([]);
    expect(issues({ optimistic: 2, likely: 2, pessimistic: 2 })).toEqual([]);
  });

  test('names the bound out of order', () => {
    expect(issues({ optimistic: 5, likely: 2, pessimistic: 6 })).toEqual(['body.likely']);
    expect(issues({ optimistic: 1, likely: 5, pessimistic: 3 })).toEqual(['body.pessimistic']);
  });

  test('refuses negative, excessive, over-precise and missing hours', () => {
    expect(issues({ optimistic: -1, likely: 2, pessimistic: 3 })).toEqual(['body.optimistic']);
    expect(issues({ optimistic: 1, likely: 2, pessimistic: 10_000.01 })).toEqual(['body.pessimistic']);
    expect(issues({ optimistic: 1.005, likely: 2, pessimistic: 3 })).toEqual(['body.optimistic']);
    expect(issues({ optimistic: 1, pessimistic: 3 })).toEqual(['body.likely']);
    expect(issues({ optimistic: '1', likely: 2, pessimistic: 3 })).toEqual(['body.optimistic']);
  });
});

describe('access', () => {
  const owner = 'owner-id';

  test('a personal project is its owner’s alone', () => {
    expect(accessOf({ ownerId: owner, teamId: null }, owner, undefined)).toBe('owner');
    expect(accessOf({ ownerId: owner, teamId: null }, 'other', 'administrator')).toBeUndefined();
    expect(accessOf({ ownerId: null, teamId: null }, owner, undefined)).toBeUndefined();
  });

  test('a team project follows the membership; only administrators and editors write', () => {
    const team = { ownerId: owner, teamId: 'team-id' };
    expect(accessOf(team, owner, undefined)).toBeUndefined();
    expect(accessOf(team, 'member', 'viewer')).toBe('viewer');
    expect(
      ['owner', 'administrator', 'editor', 'commenter', 'viewer', undefined].map((a) => canWrite(a as never)),
    ).toEqual([true, true, true, false, false, false]);
  });
});
