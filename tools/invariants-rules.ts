/**
 * What each saga state allows of its order's reservation and payment records. Pure tables used by
 * the invariant checker (tools/invariants.ts); kept apart so the rules read as a table.
 *
 * A reply can be recorded by a participant before the saga applies it, so an open state allows the
 * record of the step it waits on both before and after the participant acted (confirming: ACTIVE
 * or CONFIRMED). Final states allow only the settled outcome.
 */
import { isMinorUnits } from '../src/money/money';
import type { OrderSagaState, ReservationStatus } from '../machines/order-saga';
import type { PaymentStatus } from '../src/participants/records';

/** `NONE`: no record at all. `TOMBSTONE`: a RELEASED record that never held seats. */
export type ReservationView = ReservationStatus | 'NONE' | 'TOMBSTONE';
export type PaymentView = PaymentStatus | 'NONE';

export const RESERVATION_ALLOWED: Record<OrderSagaState, readonly ReservationView[]> = {
  // ReserveSeats sent: not handled yet, held, or refused (reply not applied yet).
  reserving: ['NONE', 'ACTIVE', 'REJECTED'],
  awaitingPayment: ['ACTIVE'],
  confirming: ['ACTIVE', 'CONFIRMED'],
  notifying: ['CONFIRMED'],
  // CONFIRMED: an operator compensates a paid order whose seats were sold already.
  releasingSeats: ['ACTIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED', 'TOMBSTONE'],
  settlingPayment: ['RELEASED', 'EXPIRED', 'TOMBSTONE'],
  refunding: ['RELEASED', 'EXPIRED', 'TOMBSTONE'],
  completed: ['CONFIRMED'],
  // Seats released (or expired); REJECTED / TOMBSTONE when a cancel met a refused reservation.
  cancelled: ['RELEASED', 'EXPIRED', 'REJECTED', 'TOMBSTONE'],
  failed: ['REJECTED', 'TOMBSTONE', 'NONE'],
};

/**
 * Payment records an open saga can coexist with. Final states are judged by the money rules
 * (a completed order holds exactly its capture; a cancelled or failed one holds nothing).
 */
export const PAYMENT_ALLOWED_OPEN: Partial<Record<OrderSagaState, readonly PaymentView[]>> = {
  reserving: ['NONE'],
  // ChargePayment sent: not started, in flight, or settled with the reply on its way.
  awaitingPayment: ['NONE', 'IN_FLIGHT', 'CAPTURED', 'DECLINED'],
  confirming: ['CAPTURED'],
  notifying: ['CAPTURED'],
  // Compensation: the charge may be anywhere until VoidPayment settles it.
  releasingSeats: ['NONE', 'IN_FLIGHT', 'CAPTURED', 'DECLINED', 'VOIDED'],
  settlingPayment: ['NONE', 'IN_FLIGHT', 'CAPTURED', 'DECLINED', 'VOIDED'],
  refunding: ['CAPTURED', 'REFUNDED'],
};

export function reservationView(
  record: { status: ReservationStatus; tombstone?: boolean } | undefined,
): ReservationView {
  if (!record) return 'NONE';
  if (record.tombstone) return 'TOMBSTONE';
  return record.status;
}

/** A stored amount in minor units, or 0 when it is missing or not a whole number (flagged elsewhere). */
export function minor(amount: number | null | undefined): number {
  return isMinorUnits(amount) ? amount : 0;
}
