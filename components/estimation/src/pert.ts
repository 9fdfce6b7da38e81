/**
 * Three-point (PERT) figures, exact: hours become integer centihours and every sum is kept in
 * sixths of a centihour (bigint), so the only irrational step, √Σσ², is handled with an integer
 * square root. Each published figure is rounded once, half-up, from its exact value.
 */

export interface ThreePoint {
  readonly optimistic: number;
  readonly likely: number;
  readonly pessimistic: number;
}

export interface Rate {
  /** Minor units of `currency` per hour. */
  readonly hourlyRate: number;
  readonly currency: string;
}

/** An amount in integer minor units and as a decimal string with the currency's minor digits. */
export interface Money {
  readonly minor: number;
  readonly amount: string;
}

export interface Cost {
  readonly currency: string;
  readonly hourlyRate: Money;
  readonly expected: Money;
  readonly low: Money;
  readonly high: Money;
}

/** Hours as decimal strings with two places. */
export interface LineFigures {
  readonly expected: string;
  readonly sigma: string;
}

export interface Quote {
  readonly expectedHours: string;
  readonly sigmaHours: string;
  /** 95 % range: expected ± 2σ_total, the low end never below zero. */
  readonly low: string;
  readonly high: string;
  readonly cost: Cost | null;
}

/** Hours (at most two decimals, as the contract allows) to integer centihours. */
export function centihours(hours: number): bigint {
  return BigInt(Math.round(hours * 100));
}

export function formatHours(centi: bigint): string {
  return formatScaled(centi, 2);
}

const digitsByCurrency = new Map<string, number>();

/** The currency's minor-unit digits as Intl knows them (JPY 0, EUR 2, KWD 3). */
export function minorDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

export function money(minor: bigint | number, currency: string): Money {
  const value = BigInt(minor);
  return { minor: Number(value), amount: formatScaled(value, minorDigits(currency)) };
}

export function lineFigures(estimate: ThreePoint): LineFigures {
  const [o, m, p] = points(estimate);
  return {
    expected: formatHours(roundHalfUp(o + 4n * m + p, 6n)),
    sigma: formatHours(roundHalfUp(p - o, 6n)),
  };
}

export function quote(estimates: readonly ThreePoint[], rate: Rate | null): Quote {
  // a = Σ(o + 4m + p) = 6·expected, s = Σ(p − o)² = 36·Σσ², both in centihours
  let a = 0n;
  let s = 0n;
  for (const estimate of estimates) {
    const [o, m, p] = points(estimate);
    a += o + 4n * m + p;
    s += (p - o) ** 2n;
  }
  // low/high = (a ∓ 2√s)/6 = (a ∓ √(4s))/6; floor(k ± √x) is k + isqrt(x) or k − ceilSqrt(x)
  const belowZero = a * a < 4n * s;
  const hours = {
    expected: roundHalfUp(a, 6n),
    sigma: (isqrt(s) + 3n) / 6n,
    low: belowZero ? 0n : (a + 3n - ceilSqrt(4n * s)) / 6n,
    high: (a + 3n + isqrt(4n * s)) / 6n,
  };
  return {
    expectedHours: formatHours(hours.expected),
    sigmaHours: formatHours(hours.sigma),
    low: formatHours(hours.low),
    high: formatHours(hours.high),
    cost: rate ? cost(a, s, belowZero, rate) : null,
  };
}

/** Cost of the exact hours: (a ∓ √(4s))·rate / 600 minor units, since a is in sixths of centihours. */
function cost(a: bigint, s: bigint, belowZero: boolean, rate: Rate): Cost {
  const r = BigInt(rate.hourlyRate);
  const spread = 4n * s * r * r;
  return {
    currency: rate.currency,
    hourlyRate: money(r, rate.currency),
    expected: money(roundHalfUp(a * r, 600n), rate.currency),
    low: money(belowZero ? 0n : (a * r + 300n - ceilSqrt(spread)) / 600n, rate.currency),
    high: money((a * r + 300n + isqrt(spread)) / 600n, rate.currency),
  };
}

function points(e: ThreePoint): [bigint, bigint, bigint] {
  return [centihours(e.optimistic), centihours(e.likely), centihours(e.pessimistic)];
}

/** n / d rounded half-up, for n ≥ 0 and d > 0. */
function roundHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

/** ⌊√n⌋ for n ≥ 0: Newton's method on bigints, from a power of two at or above the root. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('square root of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

function ceilSqrt(n: bigint): bigint {
  const r = isqrt(n);
  return r * r === n ? r : r + 1n;
}

function formatScaled(value: bigint, digits: number): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  if (digits === 0) return `${sign}${abs}`;
  const scale = 10n ** BigInt(digits);
  return `${sign}${abs / scale}.${(abs % scale).toString().padStart(digits, '0')}`;
}
