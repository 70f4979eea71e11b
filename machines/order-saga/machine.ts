/**
 * The order saga. Pure: it decides, the runtime persists and dispatches.
 *
 *   reserving ──SEATS_RESERVED──► awaitingPayment ──PAYMENT_CAPTURED──► confirming ──► notifying ──► completed
 *      │  └──SEATS_RESERVED, total 0 (free tickets: nothing to charge)──────────►─┘
 *      │                              │  PAYMENT_DECLINED / CANCEL_REQUESTED /     │
 *      │ SEATS_UNAVAILABLE            │  HOLD_EXPIRED / OPERATOR_COMPENSATE         │ OPERATOR_COMPENSATE
 *      ▼                              ▼                                             │ (seats may be sold already)
 *    failed                     releasingSeats ◄────────────────────────────────────┘
 *                                     │
 *                                     ├──SEATS_RELEASED──► cancelled                 (nothing was charged)
 *                                     ├──SEATS_RELEASED──► refunding ──► cancelled   (the charge was captured)
 *                                     └──SEATS_RELEASED──► settlingPayment (void, or learn the late outcome)
 *                                                            ├─PAYMENT_DECLINED──► cancelled
 *                                                            └─PAYMENT_CAPTURED──► refunding ──► cancelled
 *
 * completed, cancelled and failed each tell the customer once (SendNotification: in notifying for a
 * completed order, on entry to the final state otherwise).
 *
 * Every side effect leaves as a `command` action whose params are a SagaCommand; the runtime turns
 * them into SQS messages (the outbox). Timers are commands too (ScheduleHoldExpiry): XState's own
 * `after` timers are not persisted, so the hold lives in a durable message, not in this machine.
 */
import { assign, setup } from 'xstate';
import { ignore } from './ignores';
import { capturedPaymentId, decidedOutcome, heldReservation, outcomeAfter } from './outcome';
import type {
  CommandRequest,
  NotificationTemplate,
  OrderSagaContext,
  OrderSagaEvent,
  OrderSagaInput,
  SagaCommand,
} from './types';

/** Bumped whenever a change would misread snapshots persisted by the previous definition. */
export const ORDER_SAGA_VERSION = '2'; // 2: amounts in minor units (amountMinor); free orders skip payment

type Ctx = { context: OrderSagaContext };

/**
 * Builds a command with its deterministic id (`orderId:kind`): one command of each kind per saga.
 * Every machine version since 2 uses this rule (v3 imports it); changing it would change the ids
 * of commands already in flight.
 */
export function command(context: OrderSagaContext, request: CommandRequest): SagaCommand {
  return { ...request, orderId: context.orderId, commandId: `${context.orderId}:${request.kind}` };
}

/** A customer's cancel or an operator's compensation, once the seats are held: remember who, decide the outcome. */
const CANCEL = ['rememberCancelRequest', 'decideOutcome'] as const;

export const orderSagaMachine = setup({
  types: {
    input: {} as OrderSagaInput,
    context: {} as OrderSagaContext,
    events: {} as OrderSagaEvent,
  },
  actions: {
    /** The only way an effect leaves the machine; the runtime reads these from `transition()`. */
    command: (_: unknown, _params: SagaCommand) => {
      /* executed by the runtime's dispatcher, never here */
    },
    /** The one writer of `outcome` (outcome.ts): on every transition that turns toward the end. */
    decideOutcome: assign({ outcome: ({ context, event }) => outcomeAfter(context, event) }),
    rememberReservation: assign(({ event }) => {
      if (event.type !== 'SEATS_RESERVED') return {};
      const { reservationId, expiresAt, amountMinor, currency } = event;
      return { reservation: { reservationId, expiresAt, amountMinor, currency } };
    }),
    rememberCapture: assign(({ context, event }) =>
      event.type === 'PAYMENT_CAPTURED'
        ? { payment: { ...context.payment, state: 'captured' as const, paymentId: event.paymentId } }
        : {},
    ),
    rememberDecline: assign(({ context, event }) =>
      event.type === 'PAYMENT_DECLINED'
        ? { payment: { ...context.payment, state: 'declined' as const, reason: event.reason } }
        : {},
    ),
    rememberCancelRequest: assign(({ event }) =>
      event.type === 'CANCEL_REQUESTED' || event.type === 'OPERATOR_COMPENSATE'
        ? { cancelRequested: { by: event.by, reason: event.reason } }
        : {},
    ),
    rememberFailure: assign(({ event }) => (event.type === 'SEATS_UNAVAILABLE' ? { failureReason: event.reason } : {})),
    rememberRefund: assign(({ event }) =>
      event.type === 'REFUND_ISSUED' ? { refund: { refundId: event.refundId, amountMinor: event.amountMinor } } : {},
    ),
  },
  guards: {
    cancelWasRequested: ({ context }) => context.cancelRequested !== null,
    cancelNotYetRequested: ({ context }) => context.cancelRequested === null,
    /** A charge was sent and its answer is not in: it may still capture, so it must be settled. */
    chargeOutcomeUnknown: ({ context }) => context.payment.state === 'requested',
    /** Compensating after the capture (an operator, in confirming): the money goes back. */
    chargeCaptured: ({ context }) => context.payment.state === 'captured',
    /** The seats are held at a total of 0 minor units (free tickets): there is nothing to charge. */
    nothingToCharge: ({ event }) => event.type === 'SEATS_RESERVED' && event.amountMinor === 0,
  },
}).createMachine({
  id: 'order-saga',
  context: ({ input }) => ({
    ...input,
    reservation: null,
    payment: { state: 'none', paymentId: null, reason: null },
    refund: null,
    cancelRequested: null,
    outcome: null,
    failureReason: null,
  }),
  initial: 'reserving',
  states: {
    reserving: {
      // The first state: nothing was sent before it, so no reply can come late.
      meta: ignore(),
      entry: {
        type: 'command',
        params: ({ context }: Ctx) =>
          command(context, {
            kind: 'ReserveSeats',
            eventId: context.eventId,
            items: context.items,
            holdSeconds: context.holdSeconds,
          }),
      },
      on: {
        SEATS_RESERVED: [
          { guard: 'cancelWasRequested', target: 'releasingSeats', actions: ['rememberReservation', 'decideOutcome'] },
          // A free order is confirmed at once: no charge, no hold timer (nothing waits for a payment).
          { guard: 'nothingToCharge', target: 'confirming', actions: 'rememberReservation' },
          { target: 'awaitingPayment', actions: 'rememberReservation' },
        ],
        SEATS_UNAVAILABLE: [
          { guard: 'cancelWasRequested', target: 'cancelled', actions: 'decideOutcome' },
          { target: 'failed', actions: ['rememberFailure', 'decideOutcome'] },
        ],
        // The first request wins; it is applied once the seats are held.
        CANCEL_REQUESTED: { guard: 'cancelNotYetRequested', actions: 'rememberCancelRequest' },
        OPERATOR_COMPENSATE: { guard: 'cancelNotYetRequested', actions: 'rememberCancelRequest' },
      },
    },
    awaitingPayment: {
      // A duplicate of the reservation's answer (the outbox re-sent ReserveSeats).
      meta: ignore('SEATS_RESERVED'),
      entry: [
        assign({ payment: ({ context }) => ({ ...context.payment, state: 'requested' as const }) }),
        {
          type: 'command',
          params: ({ context }: Ctx) =>
            command(context, {
              kind: 'ChargePayment',
              amountMinor: heldReservation(context, 'awaitingPayment').amountMinor,
              currency: heldReservation(context, 'awaitingPayment').currency,
              paymentToken: context.paymentToken,
            }),
        },
        {
          type: 'command',
          params: ({ context }: Ctx) =>
            command(context, {
              kind: 'ScheduleHoldExpiry',
              dueAt: heldReservation(context, 'awaitingPayment').expiresAt,
            }),
        },
      ],
      on: {
        PAYMENT_CAPTURED: { target: 'confirming', actions: 'rememberCapture' },
        PAYMENT_DECLINED: { target: 'releasingSeats', actions: ['rememberDecline', 'decideOutcome'] },
        CANCEL_REQUESTED: { target: 'releasingSeats', actions: CANCEL },
        OPERATOR_COMPENSATE: { target: 'releasingSeats', actions: CANCEL },
        HOLD_EXPIRED: { target: 'releasingSeats', actions: 'decideOutcome' },
      },
    },
    confirming: {
      // Late: the reservation's and the charge's answers again, and the hold timer firing after payment.
      meta: ignore('SEATS_RESERVED', 'PAYMENT_CAPTURED', 'HOLD_EXPIRED'),
      entry: {
        type: 'command',
        params: ({ context }: Ctx) =>
          command(context, {
            kind: 'ConfirmSeats',
            reservationId: heldReservation(context, 'confirming').reservationId,
          }),
      },
      on: {
        SEATS_CONFIRMED: 'notifying',
        // For a confirm that cannot succeed: ReleaseSeats also takes back seats already sold.
        OPERATOR_COMPENSATE: { target: 'releasingSeats', actions: CANCEL },
      },
    },
    notifying: {
      meta: ignore('SEATS_RESERVED', 'PAYMENT_CAPTURED', 'HOLD_EXPIRED', 'SEATS_CONFIRMED'),
      entry: {
        type: 'command',
        params: ({ context }: Ctx) =>
          command(context, {
            kind: 'SendNotification',
            customerId: context.customerId,
            template: 'order-completed',
            outcome: 'completed',
          }),
      },
      on: { NOTIFICATION_SENT: { target: 'completed', actions: 'decideOutcome' } },
    },
    // A final saga waits on nothing: every reply that can still come is late.
    completed: {
      type: 'final',
      meta: ignore('SEATS_RESERVED', 'PAYMENT_CAPTURED', 'HOLD_EXPIRED', 'SEATS_CONFIRMED', 'NOTIFICATION_SENT'),
    },
    releasingSeats: {
      // Payment answers that arrive here are left alone: VoidPayment reports the charge's outcome again.
      // The hold timer of a cancelled order, and the answer of a confirm an operator compensated, come late.
      meta: ignore('SEATS_RESERVED', 'PAYMENT_CAPTURED', 'PAYMENT_DECLINED', 'HOLD_EXPIRED', 'SEATS_CONFIRMED'),
      entry: {
        type: 'command',
        params: ({ context }: Ctx) =>
          command(context, {
            kind: 'ReleaseSeats',
            reservationId: heldReservation(context, 'releasingSeats').reservationId,
            releaseAs: context.outcome === 'expired' ? 'EXPIRED' : 'RELEASED',
          }),
      },
      on: {
        SEATS_RELEASED: [
          { guard: 'chargeOutcomeUnknown', target: 'settlingPayment' },
          { guard: 'chargeCaptured', target: 'refunding' },
          { target: 'cancelled' },
        ],
      },
    },
    settlingPayment: {
      meta: ignore('SEATS_RESERVED', 'SEATS_RELEASED', 'HOLD_EXPIRED', 'SEATS_CONFIRMED'),
      entry: { type: 'command', params: ({ context }: Ctx) => command(context, { kind: 'VoidPayment' }) },
      on: {
        PAYMENT_DECLINED: { target: 'cancelled', actions: 'rememberDecline' },
        PAYMENT_CAPTURED: { target: 'refunding', actions: 'rememberCapture' },
      },
    },
    refunding: {
      meta: ignore('SEATS_RESERVED', 'SEATS_RELEASED', 'PAYMENT_CAPTURED', 'HOLD_EXPIRED', 'SEATS_CONFIRMED'),
      entry: {
        type: 'command',
        params: ({ context }: Ctx) =>
          command(context, {
            kind: 'RefundPayment',
            paymentId: capturedPaymentId(context, 'refunding'),
            amountMinor: heldReservation(context, 'refunding').amountMinor,
            currency: heldReservation(context, 'refunding').currency,
          }),
      },
      on: { REFUND_ISSUED: { target: 'cancelled', actions: 'rememberRefund' } },
    },
    // The customer hears how it ended. Nothing waits for the reply: a final saga ignores it.
    cancelled: {
      type: 'final',
      meta: ignore(
        'SEATS_RESERVED',
        'SEATS_UNAVAILABLE',
        'PAYMENT_CAPTURED',
        'PAYMENT_DECLINED',
        'HOLD_EXPIRED',
        'SEATS_RELEASED',
        'SEATS_CONFIRMED',
        'REFUND_ISSUED',
        'NOTIFICATION_SENT',
      ),
      entry: { type: 'command', params: ({ context }: Ctx) => finalNotice(context, 'order-cancelled') },
    },
    failed: {
      type: 'final',
      meta: ignore('SEATS_UNAVAILABLE', 'NOTIFICATION_SENT'),
      entry: { type: 'command', params: ({ context }: Ctx) => finalNotice(context, 'order-failed') },
    },
  },
});

function finalNotice(context: OrderSagaContext, template: NotificationTemplate): SagaCommand {
  const outcome = decidedOutcome(context);
  return command(context, { kind: 'SendNotification', customerId: context.customerId, template, outcome });
}

export type OrderSagaMachine = typeof orderSagaMachine;
