/**
 * A sample step for the machine's pure tests: order `o1`'s seats reserved, 5000 minor units of EUR
 * (the amount the tests' expectations are written in).
 */
export const RESERVED_O1 = {
  type: 'SEATS_RESERVED',
  reservationId: 'o1',
  expiresAt: '2026-11-25T10:00:00.000Z',
  amountMinor: 5000,
  currency: 'EUR',
} as const;
