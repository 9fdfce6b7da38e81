import { centihours, isqrt, lineFigures, minorDigits, money, quote, type ThreePoint } from './pert';

const tp = (optimistic: number, likely: number, pessimistic: number): ThreePoint => ({
  optimistic,
  likely,
  pessimistic,
});

describe('lineFigures', () => {
  it('gives expected = (o + 4m + p)/6 and σ = (p − o)/6 in hours with two decimals', () => {
    expect(lineFigures(tp(1, 2, 3))).toEqual({ expected: '2.00', sigma: '0.33' });
    expect(lineFigures(tp(2, 4, 12))).toEqual({ expected: '5.00', sigma: '1.67' });
    expect(lineFigures(tp(3, 3, 3))).toEqual({ expected: '3.00', sigma: '0.00' });
  });

  it('has no binary-float drift', () => {
    // (0.1 + 4·0.2 + 0.3)/6 is 0.19999999999999998 in floats
    expect(lineFigures(tp(0.1, 0.2, 0.3))).toEqual({ expected: '0.20', sigma: '0.03' });
    expect(lineFigures(tp(1.1, 2.2, 3.3))).toEqual({ expected: '2.20', sigma: '0.37' });
  });

  it('rounds half-up to the centihour', () => {
    // 3 centihours / 6 = 0.5 centihour
    expect(lineFigures(tp(0, 0, 0.03))).toEqual({ expected: '0.01', sigma: '0.01' });
    expect(lineFigures(tp(0, 0, 0.02))).toEqual({ expected: '0.00', sigma: '0.00' });
    expect(lineFigures(tp(0, 0, 1))).toEqual({ expected: '0.17', sigma: '0.17' });
  });

  it('handles the largest estimates', () => {
    expect(lineFigures(tp(10_000, 10_000, 10_000))).toEqual({ expected: '10000.00', sigma: '0.00' });
    expect(lineFigures(tp(0, 0, 10_000))).toEqual({ expected: '1666.67', sigma: '1666.67' });
  });
});

describe('quote', () => {
  it('sums expectations, aggregates σ as √Σσ² and gives the 95 % range', () => {
    expect(quote([tp(1, 2, 3), tp(2, 4, 12)], null)).toEqual({
      expectedHours: '7.00',
      sigmaHours: '1.70', // √(1/9 + 25/9) = 1.6997
      low: '3.60', // 7 − 3.3993
      high: '10.40', // 7 + 3.3993
      cost: null,
    });
  });

  it('does not add σ linearly', () => {
    // four lines of σ = 1/3: √(4/9) = 0.67, not 1.33
    const q = quote([tp(0, 1, 2), tp(0, 1, 2), tp(0, 1, 2), tp(0, 1, 2)], null);
    expect(q).toMatchObject({ expectedHours: '4.00', sigmaHours: '0.67', low: '2.67', high: '5.33' });
  });

  it('sums exact expectations before rounding once', () => {
    // each line is 1/6 h (0.17 when shown), six of them are exactly one hour
    const q = quote(
      Array.from({ length: 6 }, () => tp(0, 0, 1)),
      null,
    );
    expect(q.expectedHours).toBe('1.00');
    expect(q.sigmaHours).toBe('0.41'); // √(6/36)
  });

  it('never lets the low end fall below zero', () => {
    const q = quote([tp(0, 0, 10)], { hourlyRate: 10_000, currency: 'EUR' });
    expect(q).toMatchObject({ expectedHours: '1.67', sigmaHours: '1.67', low: '0.00', high: '5.00' });
    expect(q.cost?.low).toEqual({ minor: 0, amount: '0.00' });
    expect(q.cost?.high).toEqual({ minor: 50_000, amount: '500.00' });
  });

  it('is all zeros without estimates', () => {
    expect(quote([], { hourlyRate: 5000, currency: 'USD' })).toEqual({
      expectedHours: '0.00',
      sigmaHours: '0.00',
      low: '0.00',
      high: '0.00',
      cost: {
        currency: 'USD',
        hourlyRate: { minor: 5000, amount: '50.00' },
        expected: { minor: 0, amount: '0.00' },
        low: { minor: 0, amount: '0.00' },
        high: { minor: 0, amount: '0.00' },
      },
    });
  });

  it('prices the exact hours, rounding half-up to the minor unit', () => {
    const q = quote([tp(1, 2, 3), tp(2, 4, 12)], { hourlyRate: 10_000, currency: 'EUR' });
    expect(q.cost).toEqual({
      currency: 'EUR',
      hourlyRate: { minor: 10_000, amount: '100.00' },
      expected: { minor: 70_000, amount: '700.00' },
      low: { minor: 36_007, amount: '360.07' }, // 36006.54
      high: { minor: 103_993, amount: '1039.93' }, // 103993.46
    });
    // 1/6 h at 3 minor units an hour is exactly half a minor unit
    expect(quote([tp(0, 0, 1)], { hourlyRate: 3, currency: 'EUR' }).cost?.expected.minor).toBe(1);
    expect(quote([tp(0, 0, 1)], { hourlyRate: 2, currency: 'EUR' }).cost?.expected.minor).toBe(0);
  });

  it('rounds exact halves of the range up', () => {
    // expected 19/12 h, σ 7/12 h: low 5/12 h and high 11/4 h at 12.345 an hour end in .75 and .75
    const q = quote([tp(0.5, 1.25, 4)], { hourlyRate: 12_345, currency: 'KWD' });
    expect(q).toMatchObject({ expectedHours: '1.58', sigmaHours: '0.58', low: '0.42', high: '2.75' });
    expect(q.cost).toEqual({
      currency: 'KWD',
      hourlyRate: { minor: 12_345, amount: '12.345' },
      expected: { minor: 19_546, amount: '19.546' }, // 19546.25
      low: { minor: 5144, amount: '5.144' }, // 5143.75
      high: { minor: 33_949, amount: '33.949' }, // 33948.75
    });
  });

  it('uses the currency’s minor-unit digits', () => {
    const lines = [tp(1, 3, 8), tp(0.25, 0.5, 0.75), tp(2, 2, 2)]; // 6 h, σ 1.1696 h
    expect(quote(lines, { hourlyRate: 7, currency: 'JPY' }).cost).toEqual({
      currency: 'JPY',
      hourlyRate: { minor: 7, amount: '7' },
      expected: { minor: 42, amount: '42' },
      low: { minor: 26, amount: '26' }, // 25.63
      high: { minor: 58, amount: '58' }, // 58.37
    });
    expect(quote(lines, { hourlyRate: 4550, currency: 'EUR' }).cost?.expected).toEqual({
      minor: 27_300,
      amount: '273.00',
    });
    expect(quote(lines, { hourlyRate: 4550, currency: 'KWD' }).cost?.expected).toEqual({
      minor: 27_300,
      amount: '27.300',
    });
  });

  it('stays exact beyond float precision', () => {
    const lines = Array.from({ length: 5000 }, () => tp(10_000, 10_000, 10_000));
    const q = quote(lines, { hourlyRate: 1_000_000_000, currency: 'EUR' });
    expect(q.expectedHours).toBe('50000000.00');
    expect(q.cost?.expected.amount).toBe('500000000000000.00');
  });
});

describe('helpers', () => {
  it('knows minor digits from Intl', () => {
    expect([minorDigits('JPY'), minorDigits('EUR'), minorDigits('KWD')]).toEqual([0, 2, 3]);
  });

  it('formats money', () => {
    expect(money(5, 'EUR')).toEqual({ minor: 5, amount: '0.05' });
    expect(money(123_456n, 'KWD')).toEqual({ minor: 123_456, amount: '123.456' });
    expect(money(0, 'JPY')).toEqual({ minor: 0, amount: '0' });
  });

  it('converts hours to centihours', () => {
    expect(centihours(1.1)).toBe(110n);
    expect(centihours(0.29)).toBe(29n); // 28.999999999999996 in floats
  });

  it('takes exact integer square roots', () => {
    expect([0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n].map(isqrt)).toEqual([0n, 1n, 1n, 1n, 2n, 3n, 4n, 4n]);
    const big = 123_456_789_012_345_678_901n;
    expect(isqrt(big * big)).toBe(big);
    expect(isqrt(big * big - 1n)).toBe(big - 1n);
    expect(isqrt(big * big + 2n * big)).toBe(big);
    expect(() => isqrt(-1n)).toThrow(RangeError);
  });
});
