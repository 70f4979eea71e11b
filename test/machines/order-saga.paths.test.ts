/**
 * Every path through the order saga, generated from the machine itself with xstate's graph
 * functions, ends in the final state its story promises. The path count and the set of endings
 * are pinned, so a graph that silently shrinks (a lost transition, a guard that never passes)
 * fails here.
 */
import { getSimplePaths } from 'xstate/graph';
import {
  applyEvent,
  FINAL_STATES,
  orderSagaMachine,
  orderStatusOf,
  startSaga,
  type OrderSagaEvent,
  type OrderSagaInput,
  type SagaCommand,
} from '../../machines/order-saga';
import { SAMPLE_INPUT, sampleEvents } from '../../tools/fingerprint';

const input: OrderSagaInput = SAMPLE_INPUT;

/** Every event the outside world can send, with a payload, for a paid order. */
const everyEvent: OrderSagaEvent[] = sampleEvents(10000);

const EXPECTED_PATHS = [
  'completed/completed: SEATS_RESERVED → PAYMENT_CAPTURED → SEATS_CONFIRMED → NOTIFICATION_SENT',
  'failed/sold-out: SEATS_UNAVAILABLE',
  'cancelled/cancelled: CANCEL_REQUESTED → SEATS_UNAVAILABLE',
  'cancelled/compensated: OPERATOR_COMPENSATE → SEATS_UNAVAILABLE',
  'cancelled/cancelled: CANCEL_REQUESTED → SEATS_RESERVED → SEATS_RELEASED',
  'cancelled/compensated: OPERATOR_COMPENSATE → SEATS_RESERVED → SEATS_RELEASED',
  'cancelled/declined: SEATS_RESERVED → PAYMENT_DECLINED → SEATS_RELEASED',
  // Cancelled or expired while the charge is out: release, then settle the charge (void it, or refund a late capture).
  'cancelled/cancelled: SEATS_RESERVED → CANCEL_REQUESTED → SEATS_RELEASED → PAYMENT_DECLINED',
  'cancelled/compensated: SEATS_RESERVED → OPERATOR_COMPENSATE → SEATS_RELEASED → PAYMENT_DECLINED',
  'cancelled/expired: SEATS_RESERVED → HOLD_EXPIRED → SEATS_RELEASED → PAYMENT_DECLINED',
  'cancelled/cancelled: SEATS_RESERVED → CANCEL_REQUESTED → SEATS_RELEASED → PAYMENT_CAPTURED → REFUND_ISSUED',
  'cancelled/compensated: SEATS_RESERVED → OPERATOR_COMPENSATE → SEATS_RELEASED → PAYMENT_CAPTURED → REFUND_ISSUED',
  'cancelled/expired: SEATS_RESERVED → HOLD_EXPIRED → SEATS_RELEASED → PAYMENT_CAPTURED → REFUND_ISSUED',
  // An operator compensates a paid order whose confirm cannot succeed: seats back (sold or not), money back.
  'cancelled/compensated: SEATS_RESERVED → PAYMENT_CAPTURED → OPERATOR_COMPENSATE → SEATS_RELEASED → REFUND_ISSUED',
];

const paths = getSimplePaths(orderSagaMachine, {
  input,
  events: () => everyEvent,
  toState: (snapshot) => snapshot.status === 'done',
});
const endings = paths.map((p) => ({
  state: String(p.state.value),
  outcome: p.state.context.outcome,
  steps: p.steps.map((s) => s.event.type).join(' → '),
  // The first step is xstate.init, which startSaga stands for.
  events: p.steps.slice(1).map((s) => s.event),
}));

/** Every command the saga sends along a path, replayed through the runtime's pure functions. */
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

const TEMPLATE_OF_FINAL: Record<string, string> = {
  completed: 'order-completed',
  cancelled: 'order-cancelled',
  failed: 'order-failed',
};

describe('order saga: every path', () => {
  it('ends in a final state with the outcome its story promises', () => {
    for (const ending of endings) {
      expect(FINAL_STATES).toContain(ending.state);
      const expected =
        ending.state === 'completed'
          ? ['completed']
          : ending.state === 'failed'
            ? ['sold-out']
            : ['declined', 'cancelled', 'expired', 'compensated'];
      expect(expected).toContain(ending.outcome);
    }
  });

  it('has exactly the paths and endings of the design (a shrunken graph fails)', () => {
    const kinds = new Set(endings.map((e) => `${e.state}/${e.outcome}`));
    expect([...kinds].sort()).toEqual([
      'cancelled/cancelled',
      'cancelled/compensated',
      'cancelled/declined',
      'cancelled/expired',
      'completed/completed',
      'failed/sold-out',
    ]);
    expect(paths).toHaveLength(EXPECTED_PATHS.length);
  });

  it('tells the customer how it ended, once, on every path', () => {
    for (const ending of endings) {
      const notices = commandsAlong(ending.events).filter((c) => c.kind === 'SendNotification');
      expect(notices).toEqual([
        expect.objectContaining({
          template: TEMPLATE_OF_FINAL[ending.state],
          outcome: ending.outcome,
          customerId: 'customer-1',
        }),
      ]);
    }
  });

  it('tells each story in the order the design gives', () => {
    const told = endings.map((e) => `${e.state}/${e.outcome}: ${e.steps.replace('xstate.init → ', '')}`);
    expect(told.sort()).toEqual([...EXPECTED_PATHS].sort());
  });

  it('maps every state to an order status', () => {
    const happy = endings.find((e) => e.outcome === 'completed');
    expect(happy?.steps).toBe('xstate.init → SEATS_RESERVED → PAYMENT_CAPTURED → SEATS_CONFIRMED → NOTIFICATION_SENT');
    expect(orderStatusOf('completed')).toBe('COMPLETED');
    expect(orderStatusOf('reserving')).toBe('PENDING');
    expect(orderStatusOf('awaitingPayment')).toBe('PROCESSING');
    expect(orderStatusOf('failed')).toBe('FAILED');
  });
});
