import { minorUnits } from '@devpie/client-events';
import { minorDigits, money } from '@devpie/estimation-component';

/** The largest hourly rate the contract takes, in minor units. */
const MAX_MINOR = minorUnits.maxValue ?? 1_000_000_000;
const DECIMAL = /^(\d{1,15})(?:\.(\d{1,20}))?$/;

/**
 * An amount in major units (`"95.50"`, or the JSON number `95.5`) to exact integer minor units of
 * `currency`, using its ISO 4217 minor-unit digits (EUR 2, JPY 0, KWD 3). No floating point is
 * involved: a number is read by its shortest decimal form (what `JSON.stringify` prints), which
 * is the figure the client wrote. Digits beyond the currency's minor unit must be zeros.
 */
export function toMinorUnits(amount: string | number, currency: string): number | { error: string } {
  const text = typeof amount === 'number' ? String(amount) : amount.trim();
  if (text.startsWith('-')) return { error: 'must not be negative' };
  const match = DECIMAL.exec(text);
  if (!match) return { error: 'must be an amount in major units, such as "95.50"' };
  const digits = minorDigits(currency);
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) {
    return {
      error:
        digits === 0
          ? `${currency} has no minor unit: a whole amount is required`
          : `${currency} has ${digits} decimal places: at most ${digits} are allowed`,
    };
  }
  const minor = BigInt(match[1]!) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  if (minor > BigInt(MAX_MINOR)) return { error: `must be at most ${money(MAX_MINOR, currency).amount}` };
  return Number(minor);
}
