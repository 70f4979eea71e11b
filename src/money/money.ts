/**
 * Money: every amount inside the service is an integer count of the currency's minor unit
 * (cents for EUR, fils for KWD, yen for JPY), with the ISO 4217 exponent saying how many minor
 * units make one major unit. Amounts are decimal only on the HTTP wire; these functions are the
 * two crossings: `toMinorUnits` (a decimal from a request, exact or refused) and
 * `fromMinorUnits` (the decimal a response shows). Sums are integer additions, so they are exact.
 */
import { ISO_4217_EXPONENTS } from './iso4217';

export class MoneyError extends Error {
  override name = 'MoneyError';
}

/** The ISO 4217 minor-unit exponent of `currency` (2 for EUR, 3 for KWD, 0 for JPY), or undefined. */
export function exponentOf(currency: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(ISO_4217_EXPONENTS, currency) ? ISO_4217_EXPONENTS[currency] : undefined;
}

export function isIsoCurrency(currency: unknown): currency is string {
  return typeof currency === 'string' && exponentOf(currency) !== undefined;
}

/**
 * The exact decimal digits of a JSON number as JavaScript prints it (the shortest string that
 * reads back as the same double, ECMA-262 Number::toString): `2.675` gives digits 2675, scale 3.
 */
function decimalOf(amount: number): { digits: bigint; scale: number } {
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(amount));
  if (!match) throw new MoneyError(`${String(amount)} is not a non-negative decimal`);
  const [, whole, fraction = '', exp = '0'] = match;
  const scale = fraction.length - Number(exp);
  const digits = BigInt(whole + fraction);
  return scale >= 0 ? { digits, scale } : { digits: digits * 10n ** BigInt(-scale), scale: 0 };
}

/**
 * A decimal amount (as a client sends it) in minor units of `currency`, exactly.
 * Throws MoneyError for an unknown currency, a negative or non-finite amount, more decimals than
 * the currency's exponent allows (1.005 EUR, 2.675 USD, 1.5 JPY), or a result over
 * Number.MAX_SAFE_INTEGER minor units.
 */
export function toMinorUnits(amount: number, currency: string): number {
  const exponent = exponentOf(currency);
  if (exponent === undefined) throw new MoneyError(`${currency} is not an ISO 4217 currency`);
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
    throw new MoneyError(`${String(amount)} is not a non-negative amount`);
  }
  const { digits, scale } = decimalOf(amount);
  if (scale > exponent) {
    throw new MoneyError(`${String(amount)} has ${scale} decimals; ${currency} has ${exponent} (ISO 4217)`);
  }
  const minor = digits * 10n ** BigInt(exponent - scale);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new MoneyError(`${String(amount)} ${currency} is too large`);
  return Number(minor);
}

/**
 * The decimal a response shows for `minor` units of `currency` (1068 USD → 10.68, 1500 JPY → 1500,
 * 1234 KWD → 1.234). The division is correctly rounded and the result prints with at most
 * `exponent` decimals, so it reads back to the same minor units. Throws MoneyError for an unknown
 * currency or a non-integer amount.
 */
export function fromMinorUnits(minor: number, currency: string): number {
  const exponent = exponentOf(currency);
  if (exponent === undefined) throw new MoneyError(`${currency} is not an ISO 4217 currency`);
  if (!Number.isSafeInteger(minor)) throw new MoneyError(`${String(minor)} is not a whole number of minor units`);
  return minor / 10 ** exponent;
}

/** Whether `value` is a valid amount in minor units: a safe, non-negative integer. */
export function isMinorUnits(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
