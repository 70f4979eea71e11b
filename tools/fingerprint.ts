/**
 * A machine version's behaviour, as data: every simple path from the start to a final state
 * (xstate/graph), each step with the state reached, the order status, the outcome and the
 * commands emitted. Its sha256 is the version's fingerprint: registry.ts pins it for every
 * released version, so a released machine that behaves differently fails the build, whatever the
 * edit (a guard's body, a command's field, an inline action) — the JSON definition alone would
 * miss inline functions.
 */
import { createHash } from 'node:crypto';
import { getSimplePaths } from 'xstate/graph';
import { deciderFor, type VersionedMachine } from '../machines/order-saga/decide';
import type {
  OrderSagaEvent,
  OrderSagaInput,
  OrderStatus,
  SagaCommand,
  SagaOutcome,
} from '../machines/order-saga/types';

export const SAMPLE_INPUT: OrderSagaInput = {
  orderId: 'order-1',
  customerId: 'customer-1',
  eventId: 'event-1',
  items: [{ ticketType: 'GA', quantity: 2 }],
  paymentToken: 'tok_success',
  holdSeconds: 60,
};

/**
 * The events a customer's order meets in every version, with payloads, for orders whose amounts
 * are `amountMinor` (minor units; 0 for free tickets). Path generation (xstate/graph) needs
 * payloads: the machine's guards read them.
 */
export function sampleEvents(amountMinor: number): OrderSagaEvent[] {
  return [
    {
      type: 'SEATS_RESERVED',
      reservationId: 'order-1',
      expiresAt: '2026-11-24T00:01:00.000Z',
      amountMinor,
      currency: 'EUR',
    },
    { type: 'SEATS_UNAVAILABLE', reason: 'sold out' },
    { type: 'PAYMENT_CAPTURED', paymentId: 'pay-1', amountMinor, currency: 'EUR' },
    { type: 'PAYMENT_DECLINED', reason: 'card declined' },
    { type: 'HOLD_EXPIRED' },
    { type: 'CANCEL_REQUESTED', by: 'customer:customer-1', reason: 'changed my mind' },
    { type: 'OPERATOR_COMPENSATE', by: 'operator:alice', reason: 'fraud suspected' },
    { type: 'SEATS_RELEASED' },
    { type: 'SEATS_CONFIRMED' },
    { type: 'REFUND_ISSUED', refundId: 'refund-1', amountMinor },
    { type: 'NOTIFICATION_SENT', notificationId: 'note-1' },
  ];
}

const [paidReservation, ...paidRest] = sampleEvents(10000);
const [freeReservation] = sampleEvents(0);

/**
 * Every event the outside world can send, with a payload (every version's): paid and free
 * orders, and v3's reminder.
 */
export const SAMPLE_EVENTS: readonly OrderSagaEvent[] = [
  paidReservation,
  freeReservation,
  ...paidRest,
  { type: 'HOLD_REMINDER_DUE' },
  { type: 'HOLD_REMINDER_SENT', notificationId: 'order-1:SendHoldReminder' },
];

export interface TraceStep {
  event: string;
  state: string;
  status: OrderStatus;
  outcome: SagaOutcome | null;
  commands: SagaCommand[];
}

export interface PathTrace {
  /** `state/outcome: EVENT → EVENT …` (the start left out). */
  story: string;
  finalState: string;
  outcome: SagaOutcome | null;
  events: OrderSagaEvent[];
  steps: TraceStep[];
}

/** Every simple path of the version's machine to a final state, traced through its decider. */
export function pathTraces(
  entry: VersionedMachine,
  input: OrderSagaInput = SAMPLE_INPUT,
  events: readonly OrderSagaEvent[] = SAMPLE_EVENTS,
): PathTrace[] {
  const decider = deciderFor(entry);
  const paths = getSimplePaths(entry.machine, {
    input,
    events: () => [...events],
    toState: (snapshot) => snapshot.status === 'done',
  });
  return paths.map((path) => {
    // The first step is xstate.init, which start stands for.
    const pathEvents = path.steps.slice(1).map((s) => s.event);
    const first = decider.start(input);
    const steps: TraceStep[] = [
      {
        event: 'ORDER_PLACED',
        state: first.saga.state,
        status: first.status,
        outcome: first.saga.context.outcome,
        commands: first.commands,
      },
    ];
    let saga = first.saga;
    for (const event of pathEvents) {
      const next = decider.apply(saga, event);
      steps.push({
        event: event.type,
        state: next.saga.state,
        status: next.status,
        outcome: next.saga.context.outcome,
        commands: next.commands,
      });
      saga = next.saga;
    }
    const finalState = String(path.state.value);
    const outcome = path.state.context.outcome;
    return {
      story: `${finalState}/${outcome}: ${pathEvents.map((e) => e.type).join(' → ')}`,
      finalState,
      outcome,
      events: pathEvents,
      steps,
    };
  });
}

/** sha256 (hex) of the version's path traces, in a stable order. */
export function behaviourFingerprint(entry: VersionedMachine): string {
  const traces = pathTraces(entry)
    .map((t) => JSON.stringify(t.steps))
    .sort();
  return createHash('sha256').update(JSON.stringify(traces)).digest('hex');
}
