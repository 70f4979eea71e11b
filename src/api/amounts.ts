/**
 * Amounts on the HTTP wire: decimal numbers in major units (`"price": 26.7` EUR), held inside as
 * integer minor units (2670). Requests cross with `toMinorUnits` (exact, or a field error), responses
 * with `fromMinorUnits`. The mapping is documented in docs/api.md ("Money").
 */
import { exponentOf, fromMinorUnits, MoneyError, toMinorUnits } from '../money/money';
import type { TicketTypeInput } from '../participants';
import type { FieldError } from '../http/problem';

/** A ticket type as a PUT body gives it: `price` in major units of `currency`. */
export interface TicketTypeBody {
  ticketType: string;
  totalQuantity: number;
  price: number;
  currency: string;
}

/**
 * The PUT body's ticket types in minor units, or the field errors that refuse them: a currency that
 * is not ISO 4217, a price with more decimals than its currency's exponent (1.005 EUR).
 */
export function ticketTypesInMinorUnits(ticketTypes: readonly TicketTypeBody[]): {
  value: TicketTypeInput[];
  errors: FieldError[];
} {
  const errors: FieldError[] = [];
  const value: TicketTypeInput[] = [];
  ticketTypes.forEach((t, i) => {
    const exponent = exponentOf(t.currency);
    if (exponent === undefined) {
      errors.push({ field: `/ticketTypes/${i}/currency`, message: `${t.currency} is not an ISO 4217 currency code` });
      return;
    }
    try {
      value.push({
        ticketType: t.ticketType,
        totalQuantity: t.totalQuantity,
        priceMinor: toMinorUnits(t.price, t.currency),
        currency: t.currency,
      });
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      const allowed = exponent === 0 ? 'no decimals' : `at most ${exponent} decimal${exponent === 1 ? '' : 's'}`;
      errors.push({
        field: `/ticketTypes/${i}/price`,
        message: `${String(t.price)} ${t.currency}: ${t.currency} prices take ${allowed} (ISO 4217)`,
      });
    }
  });
  return { value, errors };
}

/** The decimal a response shows for an amount in minor units; null when either part is missing. */
export function decimalAmount(minor: number | null | undefined, currency: string | null | undefined): number | null {
  if (minor === null || minor === undefined || !currency) return null;
  return fromMinorUnits(minor, currency);
}
