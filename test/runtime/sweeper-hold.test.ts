/**
 * The sweeper's expired-hold verdict (pure): a saga's own hold decides, and only a saga in
 * awaitingPayment has a hold a HOLD_EXPIRED ends (issue 25: TicketReservations has no index).
 */
import { holdExpiredBefore, SHORTEST_HOLD_MS } from '../../src/runtime/sweeper';

const expiresAt = '2030-01-01T12:10:00.000Z';
const saga = (sagaState: 'awaitingPayment' | 'confirming' | 'cancelled', hold: string | null = expiresAt) => ({
  sagaState,
  saga: { context: { reservation: hold === null ? null : { expiresAt: hold } } },
});

it('is due once the cutoff is past the saga’s own expiry, not at it', () => {
  const at = Date.parse(expiresAt);
  expect(holdExpiredBefore(saga('awaitingPayment'), at)).toBe(false);
  expect(holdExpiredBefore(saga('awaitingPayment'), at + 1)).toBe(true);
});

it('is never due outside awaitingPayment, without a hold, or with an unreadable expiry', () => {
  const later = Date.parse(expiresAt) + 60_000;
  expect(holdExpiredBefore(saga('confirming'), later)).toBe(false);
  expect(holdExpiredBefore(saga('cancelled'), later)).toBe(false);
  expect(holdExpiredBefore(saga('awaitingPayment', null), later)).toBe(false);
  expect(holdExpiredBefore(saga('awaitingPayment', ''), later)).toBe(false);
});

it('narrows the scan by the shortest hold ReserveSeats accepts (1 s), not this worker’s setting', () => {
  expect(SHORTEST_HOLD_MS).toBe(1000);
});
