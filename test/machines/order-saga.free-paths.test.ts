/**
 * Every path of a free order (tickets priced 0): the seats are held at a total of 0 minor units,
 * so the saga never asks for a charge, a void, a refund or a hold timer, and still completes and
 * tells the customer. Paths generated from the machine; their count and stories are pinned.
 */
import { getSimplePaths } from 'xstate/graph';
import {
  applyEvent,
  orderSagaMachine,
  startSaga,
  type OrderSagaEvent,
  type OrderSagaInput,
  type SagaCommand,
} from '../../machines/order-saga';
import { sampleEvents } from '../../tools/fingerprint';

const input: OrderSagaInput = {
  orderId: 'order-free',
  customerId: 'customer-1',
  eventId: 'event-1',
  items: [{ ticketType: 'FREE', quantity: 2 }],
  paymentToken: 'tok_declined', // never used: nothing is charged
  holdSeconds: 60,
};

const everyEvent: OrderSagaEvent[] = sampleEvents(0);

const EXPECTED_FREE_PATHS = [
  'completed/completed: SEATS_RESERVED → SEATS_CONFIRMED → NOTIFICATION_SENT',
  'failed/sold-out: SEATS_UNAVAILABLE',
  'cancelled/cancelled: CANCEL_REQUESTED → SEATS_UNAVAILABLE',
  'cancelled/compensated: OPERATOR_COMPENSATE → SEATS_UNAVAILABLE',
  'cancelled/cancelled: CANCEL_REQUESTED → SEATS_RESERVED → SEATS_RELEASED',
  'cancelled/compensated: OPERATOR_COMPENSATE → SEATS_RESERVED → SEATS_RELEASED',
  'cancelled/compensated: SEATS_RESERVED → OPERATOR_COMPENSATE → SEATS_RELEASED',
];

const paths = getSimplePaths(orderSagaMachine, {
  input,
  events: () => everyEvent,
  toState: (snapshot) => snapshot.status === 'done',
});
const endings = paths.map((p) => ({
  state: String(p.state.value),
  outcome: p.state.context.outcome,
  payment: p.state.context.payment.state,
  told: `${String(p.state.value)}/${String(p.state.context.outcome)}: ${p.steps
    .slice(1)
    .map((s) => s.event.type)
    .join(' → ')}`,
  events: p.steps.slice(1).map((s) => s.event),
}));

function commandsAlong(events: OrderSagaEvent[]): SagaCommand[] {
  const first = startSaga(input);
  const sent = [...first.commands];
  let saga = first.saga;
  for (const event of events) {
    const next = applyEvent(saga, event);
    sent.push(...next.commands);
    saga = next.saga;
  }
  return sent;
}

describe('order saga: every path of a free order', () => {
  it('has exactly the free paths of the design, counted', () => {
    expect(paths).toHaveLength(EXPECTED_FREE_PATHS.length);
    expect(endings.map((e) => e.told).sort()).toEqual([...EXPECTED_FREE_PATHS].sort());
  });

  it('never asks for a charge, a void, a refund or a hold timer, and never records a payment', () => {
    for (const ending of endings) {
      const kinds = commandsAlong(ending.events).map((c) => c.kind);
      for (const kind of ['ChargePayment', 'VoidPayment', 'RefundPayment', 'ScheduleHoldExpiry'] as const)
        expect(kinds).not.toContain(kind);
      expect(ending.payment).toBe('none');
    }
  });

  it('completes through confirming and tells the customer once', () => {
    const happy = endings.find((e) => e.state === 'completed')!;
    const commands = commandsAlong(happy.events);
    expect(commands.map((c) => c.kind)).toEqual(['ReserveSeats', 'ConfirmSeats', 'SendNotification']);
    expect(commands[2]).toMatchObject({ template: 'order-completed', outcome: 'completed' });
    for (const ending of endings)
      expect(commandsAlong(ending.events).filter((c) => c.kind === 'SendNotification')).toHaveLength(1);
  });

  it('a priced order still goes to payment: the guard looks at the total, nothing else', () => {
    const reserved = applyEvent(startSaga(input).saga, {
      ...(everyEvent[0] as Extract<OrderSagaEvent, { type: 'SEATS_RESERVED' }>),
      amountMinor: 1,
    });
    expect(reserved.saga.state).toBe('awaitingPayment');
    expect(reserved.commands.map((c) => c.kind)).toEqual(['ChargePayment', 'ScheduleHoldExpiry']);
  });
});
