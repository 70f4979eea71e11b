/**
 * Money crossings (src/money): decimal ↔ minor units, exact both ways for every ISO 4217 currency,
 * and over-precise amounts refused. Pure; generated input with fast-check.
 */
import fc from 'fast-check';
import { ISO_4217_EXPONENTS } from '../../src/money/iso4217';
import { exponentOf, fromMinorUnits, isIsoCurrency, MoneyError, toMinorUnits } from '../../src/money/money';

const currencies = Object.keys(ISO_4217_EXPONENTS);

describe('the ISO 4217 table', () => {
  it('holds every active code with a minor unit, with the exponents ISO gives', () => {
    expect(currencies.length).toBeGreaterThanOrEqual(160);
    for (const code of currencies)
      expect([code, [0, 2, 3, 4].includes(ISO_4217_EXPONENTS[code])]).toEqual([code, true]);
    expect([
      exponentOf('EUR'),
      exponentOf('USD'),
      exponentOf('KWD'),
      exponentOf('BHD'),
      exponentOf('JPY'),
      exponentOf('KRW'),
      exponentOf('CLF'),
    ]).toEqual([2, 2, 3, 3, 0, 0, 4]);
    for (const notIso of ['EUX', 'XAU', 'XXX', 'eur', 'toString', '__proto__', ''])
      expect(isIsoCurrency(notIso)).toBe(false);
  });
});

describe('toMinorUnits / fromMinorUnits', () => {
  it('the issue cases: 1.005 EUR and 2.675 USD are refused; 2.67 USD is 267 and 4 of them 1068 = 10.68', () => {
    expect(() => toMinorUnits(1.005, 'EUR')).toThrow(MoneyError);
    expect(() => toMinorUnits(2.675, 'USD')).toThrow(MoneyError);
    expect(toMinorUnits(2.67, 'USD')).toBe(267);
    expect(fromMinorUnits(4 * toMinorUnits(2.67, 'USD'), 'USD')).toBe(10.68);
    expect(toMinorUnits(1.234, 'KWD')).toBe(1234);
    expect(() => toMinorUnits(1.5, 'JPY')).toThrow(MoneyError);
    expect(toMinorUnits(1500, 'JPY')).toBe(1500);
    expect(toMinorUnits(0, 'EUR')).toBe(0);
    expect(() => toMinorUnits(1e-7, 'EUR')).toThrow(MoneyError);
    expect(() => toMinorUnits(-1, 'EUR')).toThrow(MoneyError);
    expect(() => toMinorUnits(Number.NaN, 'EUR')).toThrow(MoneyError);
    expect(() => toMinorUnits(1e21, 'EUR')).toThrow(MoneyError);
  });

  it('round-trips every whole number of minor units in every currency, printing at most its exponent of decimals', () => {
    fc.assert(
      fc.property(fc.constantFrom(...currencies), fc.integer({ min: 0, max: 1_000_000_000_000 }), (currency, minor) => {
        const decimal = fromMinorUnits(minor, currency);
        const [, fraction = ''] = String(decimal).split('.');
        return toMinorUnits(decimal, currency) === minor && fraction.length <= ISO_4217_EXPONENTS[currency];
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses any amount with one decimal more than its currency allows', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...currencies),
        fc.integer({ min: 0, max: 1_000_000_000 }),
        fc.integer({ min: 1, max: 9 }),
        (currency, minor, digit) => {
          const exponent = ISO_4217_EXPONENTS[currency];
          const text = `${Math.floor(minor / 10 ** exponent)}.${String(minor % 10 ** exponent).padStart(exponent, '0')}${digit}`;
          const amount = Number(exponent === 0 ? `${minor}.${digit}` : text);
          expect(() => toMinorUnits(amount, currency)).toThrow(MoneyError);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('sums are exact: n × price in minor units equals the decimal product read back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000_000 }),
        fc.integer({ min: 1, max: 100 }),
        (priceMinor, quantity) => {
          const total = priceMinor * quantity;
          return toMinorUnits(fromMinorUnits(total, 'USD'), 'USD') === total;
        },
      ),
    );
  });
});
