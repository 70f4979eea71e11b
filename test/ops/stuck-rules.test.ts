/** The stuck-saga thresholds and the compensation refusals, as pure functions. */
import {
  FINAL_STATES,
  ORDER_STATUS_BY_STATE,
  type OrderSagaState,
  type PersistedSaga,
} from '../../machines/order-saga';
import { compensationRefusal } from '../../src/ops/stuck-sagas';
import { assessStuck, STUCK_RULE_BY_STATE, type StuckCandidate } from '../../machines/order-saga';

const NOW = new Date('2030-01-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

function saga(
  state: OrderSagaState,
  enteredMsAgo: number,
  extra: Partial<PersistedSaga['context']> = {},
): StuckCandidate & { orderId: string; saga: PersistedSaga } {
  const persisted: PersistedSaga = {
    machineVersion: '1',
    state,
    outbox:
      state === 'reserving'
        ? [
            {
              kind: 'ReserveSeats',
              commandId: 'o-1:ReserveSeats',
              orderId: 'o-1',
              eventId: 'e',
              items: [],
              holdSeconds: 60,
            },
          ]
        : [],
    context: {
      orderId: 'o-1',
      customerId: 'c',
      eventId: 'e',
      items: [],
      paymentToken: 't',
      holdSeconds: 60,
      reservation: null,
      payment: { state: 'none', paymentId: null, reason: null },
      refund: null,
      cancelRequested: null,
      outcome: null,
      failureReason: null,
      ...extra,
    },
  };
  return {
    orderId: 'o-1',
    sagaState: state,
    stateEnteredAt: ago(enteredMsAgo),
    updatedAt: ago(enteredMsAgo),
    saga: persisted,
  };
}

const rules = 30_000;

it('working states are stuck once 30 s pass without leaving the state', () => {
  for (const state of [
    'reserving',
    'confirming',
    'notifying',
    'releasingSeats',
    'settlingPayment',
    'refunding',
  ] as const) {
    expect(assessStuck(saga(state, 29_000), NOW, rules)).toBeNull();
    const verdict = assessStuck(saga(state, 45_000), NOW, rules);
    expect(verdict).toMatchObject({ stuckForMs: 15_000, inStateForMs: 45_000, stuckSince: ago(15_000) });
    expect(verdict?.reason).toContain(state);
  }
  expect(assessStuck(saga('reserving', 45_000), NOW, rules)?.reason).toContain('waiting on ReserveSeats');
});

it('awaitingPayment waits for the payment while its hold is live, and 30 s past its expiry', () => {
  const reservation = (expiresMsAgo: number) => ({
    reservationId: 'o-1',
    expiresAt: ago(expiresMsAgo),
    amountMinor: 1000,
    currency: 'EUR',
  });
  // In the state for 10 minutes, hold still live for a minute: not stuck.
  expect(assessStuck(saga('awaitingPayment', 600_000, { reservation: reservation(-60_000) }), NOW, rules)).toBeNull();
  // Expired 20 s ago: within the grace.
  expect(assessStuck(saga('awaitingPayment', 600_000, { reservation: reservation(20_000) }), NOW, rules)).toBeNull();
  const verdict = assessStuck(saga('awaitingPayment', 600_000, { reservation: reservation(50_000) }), NOW, rules);
  expect(verdict).toMatchObject({ stuckForMs: 20_000, inStateForMs: 600_000 });
  expect(verdict?.reason).toContain('hold expired');
});

it('final states are never stuck; every state has a rule; the threshold is configurable', () => {
  for (const state of FINAL_STATES) expect(assessStuck(saga(state, 86_400_000), NOW, rules)).toBeNull();
  expect(assessStuck(saga('reserving', 2_000), NOW, 1_000)).toMatchObject({ stuckForMs: 1_000 });
});

it('compensation is possible in reserving, awaitingPayment and confirming only, with a reason everywhere else', () => {
  expect(compensationRefusal(saga('reserving', 0))).toBeNull();
  expect(compensationRefusal(saga('awaitingPayment', 0))).toBeNull();
  expect(compensationRefusal(saga('reserving', 0, { cancelRequested: { by: 'operator:x', reason: 'r' } }))).toMatch(
    /already has a compensation requested by operator:x/,
  );
  expect(compensationRefusal(saga('confirming', 0))).toBeNull();
  expect(compensationRefusal(saga('notifying', 0))).toMatch(/sold and paid for.*use retry/);
  for (const state of ['releasingSeats', 'settlingPayment', 'refunding'] as const) {
    expect(compensationRefusal(saga(state, 0))).toMatch(/already under way.*use retry/);
  }
  for (const state of FINAL_STATES) expect(compensationRefusal(saga(state, 0))).toMatch(/nothing to compensate/);
});

it('every state has a rule, and exactly the final states are never stuck', () => {
  expect(Object.keys(STUCK_RULE_BY_STATE).sort()).toEqual(Object.keys(ORDER_STATUS_BY_STATE).sort());
  const never = (Object.keys(STUCK_RULE_BY_STATE) as OrderSagaState[]).filter(
    (s) => STUCK_RULE_BY_STATE[s].kind === 'never',
  );
  expect(never.sort()).toEqual([...FINAL_STATES].sort());
});

it('the clock starts when the state was entered, not at the last write (a retry does not unstick)', () => {
  const s = { ...saga('confirming', 45_000), updatedAt: ago(1_000) };
  expect(assessStuck(s, NOW, rules)).toMatchObject({ inStateForMs: 45_000 });
});
