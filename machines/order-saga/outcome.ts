/**
 * How an order ends, decided in one place, and the machine's assertions on its own context.
 *
 * The outcome is named once, by the first event that turns the saga toward its end; nothing later
 * changes it (settlingPayment learning that a charge was declined does not make an expired order
 * "declined"). Every transition that turns toward the end runs the one `decideOutcome` action,
 * which calls `outcomeAfter`.
 */
import type { OrderSagaContext, OrderSagaEvent, SagaOutcome } from './types';

/** The context broke a rule the machine's own transitions guarantee: a bug, never bad input. */
export class SagaInvariantError extends Error {
  override readonly name: string = 'SagaInvariantError';
}

/** The outcome a cancel remembered while reserving gives: an operator's is a compensation. */
function cancelOutcome(cancel: OrderSagaContext['cancelRequested']): SagaOutcome {
  return cancel?.by.startsWith('operator:') ? 'compensated' : 'cancelled';
}

/**
 * The saga's outcome once `event` has been taken: the one already decided, else the one this event
 * decides (a decline, an expiry, a cancel, a compensation, sold out, the completing notice, or a
 * cancel remembered while reserving once the reservation's answer is in).
 * @throws SagaInvariantError when called for an event that does not end a saga.
 */
export function outcomeAfter(context: OrderSagaContext, event: OrderSagaEvent): SagaOutcome {
  if (context.outcome !== null) return context.outcome;
  if (context.cancelRequested && (event.type === 'SEATS_RESERVED' || event.type === 'SEATS_UNAVAILABLE')) {
    return cancelOutcome(context.cancelRequested);
  }
  switch (event.type) {
    case 'SEATS_RESERVED':
      // Only the reservation's cancel branch decides an outcome on it: the order is being cancelled.
      return cancelOutcome(context.cancelRequested);
    case 'SEATS_UNAVAILABLE':
      return 'sold-out';
    case 'PAYMENT_DECLINED':
      return 'declined';
    case 'HOLD_EXPIRED':
      return 'expired';
    case 'CANCEL_REQUESTED':
      return 'cancelled';
    case 'OPERATOR_COMPENSATE':
      return 'compensated';
    case 'NOTIFICATION_SENT':
      return 'completed';
    default:
      throw new SagaInvariantError(`order ${context.orderId}: ${event.type} does not decide how an order ends`);
  }
}

/** The outcome a final state announces. @throws SagaInvariantError when none was decided. */
export function decidedOutcome(context: OrderSagaContext): SagaOutcome {
  if (context.outcome === null) throw new SagaInvariantError(`order ${context.orderId} ended with no outcome`);
  return context.outcome;
}

/**
 * The held seats, in a state that is only entered once they are (awaitingPayment and after).
 * @throws SagaInvariantError without a reservation: the command would name no seats.
 */
export function heldReservation(
  context: OrderSagaContext,
  state: string,
): NonNullable<OrderSagaContext['reservation']> {
  if (!context.reservation) throw new SagaInvariantError(`order ${context.orderId}: ${state} without a reservation`);
  return context.reservation;
}

/**
 * The captured charge's id, in refunding (only entered after a capture).
 * @throws SagaInvariantError without one: a refund must name the charge it returns.
 */
export function capturedPaymentId(context: OrderSagaContext, state: string): string {
  if (!context.payment.paymentId) {
    throw new SagaInvariantError(`order ${context.orderId}: ${state} without a captured payment id`);
  }
  return context.payment.paymentId;
}
