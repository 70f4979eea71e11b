/**
 * "Cancelled or on its way to cancelled" has one meaning, the machine's (endsCancelled): checked
 * against every path the machine has. Whenever it says yes, that path ends in `cancelled`; every
 * path that ends cancelled says yes from the moment its last cancel-causing event is applied.
 */
import { getSimplePaths } from 'xstate/graph';
import {
  applyEvent,
  CANCEL_BOUND_STATES,
  endsCancelled,
  orderSagaMachine,
  startSaga,
  type OrderSagaInput,
  type PersistedSaga,
} from '../../machines/order-saga';
import { sampleEvents } from '../../tools/fingerprint';

const input: OrderSagaInput = {
  orderId: 'o-1',
  customerId: 'c-1',
  eventId: 'e-1',
  items: [{ ticketType: 'GA', quantity: 1 }],
  paymentToken: 'tok',
  holdSeconds: 60,
};

const events = sampleEvents;

/** The persisted saga after each event of every path (paid and free orders). */
function walks(): Array<{ final: string; sagas: PersistedSaga[] }> {
  const out: Array<{ final: string; sagas: PersistedSaga[] }> = [];
  for (const amountMinor of [1000, 0]) {
    const paths = getSimplePaths(orderSagaMachine, {
      input,
      events: () => events(amountMinor),
      toState: (s) => s.status === 'done',
    });
    for (const path of paths) {
      let saga = startSaga(input).saga;
      const sagas = [saga];
      for (const step of path.steps.slice(1)) {
        saga = applyEvent(saga, step.event).saga;
        sagas.push(saga);
      }
      out.push({ final: String(path.state.value), sagas });
    }
  }
  return out;
}

describe('endsCancelled', () => {
  const all = walks();

  it('is read from the machine: releasingSeats, settlingPayment and refunding lead only to cancelled', () => {
    expect([...CANCEL_BOUND_STATES].sort()).toEqual(['refunding', 'releasingSeats', 'settlingPayment']);
    expect(all.length).toBeGreaterThan(20);
  });

  it('never says yes on a path that ends otherwise', () => {
    for (const { final, sagas } of all) {
      if (final !== 'cancelled')
        for (const saga of sagas) expect([saga.state, endsCancelled(saga)]).toEqual([saga.state, false]);
    }
  });

  it('says yes on every path that ends cancelled, from its last cancel-causing step on, whatever the outcome', () => {
    const outcomes = new Set<string>();
    for (const { final, sagas } of all) {
      if (final !== 'cancelled') continue;
      const last = sagas.at(-1)!;
      outcomes.add(String(last.context.outcome));
      const firstYes = sagas.findIndex((s) => endsCancelled(s));
      expect(firstYes).toBeGreaterThan(0);
      for (const saga of sagas.slice(firstYes)) expect(endsCancelled(saga)).toBe(true);
    }
    expect([...outcomes].sort()).toEqual(['cancelled', 'compensated', 'declined', 'expired']);
  });
});
