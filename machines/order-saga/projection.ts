import { isFinalState, isOrderSagaState, orderStatusOf, type OrderSagaState } from './status';

/**
 * The steps whose order item (the projection) may be left one version behind the commit, audited
 * one by one (issue 25, docs/benchmarks.md "The floor for the new design"): each moves no order
 * status, touches no key of the item's indexes (`status`, `customerId`, `createdKey`) nor its
 * priced total, and is followed by a step that is always projected. Only confirming → notifying
 * (SEATS_CONFIRMED): both are CONFIRMED, and notifying's one way on is the final `completed`.
 * The PROCESSING states' steps among themselves (the compensation paths) were not audited for it
 * and stay projected.
 */
const STEPS_PROJECTED_LATER: ReadonlySet<string> = new Set([stepKey('confirming', 'notifying')]);

function stepKey(from: OrderSagaState, to: OrderSagaState): string {
  return `${from}>${to}`;
}

/**
 * Whether the step `from` → `to` (saga states; any string, e.g. read from the store) must be
 * written to the order item now. False only for an audited step (STEPS_PROJECTED_LATER) that keeps
 * the order status and does not end the saga: its item lags one version until the next step
 * (always projected) or the sweeper rolls it forward. True for every other step, a step into a
 * final state always, and for a state this build does not know.
 */
export function stepNeedsProjection(from: string, to: string): boolean {
  if (!isOrderSagaState(from) || !isOrderSagaState(to)) return true;
  if (isFinalState(to) || from === to || orderStatusOf(from) !== orderStatusOf(to)) return true;
  return !STEPS_PROJECTED_LATER.has(stepKey(from, to));
}
