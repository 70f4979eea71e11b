/**
 * The machine says what it ignores (ignores.ts), in every released version: each state lists the
 * late or duplicate replies it expects and leaves alone; an event it neither handles nor lists is
 * "unexpected", which the runtime logs at warn (test/e2e/ignored-events.test.ts). And the machine's
 * assertions (outcome.ts): the outcome is decided once, and an impossible context fails loudly
 * instead of sending a command a participant would reject.
 */
import {
  deciderFor,
  ignoredBy,
  MACHINE_VERSIONS,
  outcomeAfter,
  SagaInvariantError,
  startSaga,
  type OrderSagaEvent,
  type OrderSagaState,
  type PersistedSaga,
} from '../../machines/order-saga';
import { SAMPLE_EVENTS, SAMPLE_INPUT } from '../../tools/fingerprint';

/** A saga in every state the machine reaches from the start with the sample events (breadth first). */
function sagaInEveryState(version: (typeof MACHINE_VERSIONS)[number]): Map<OrderSagaState, PersistedSaga> {
  const decider = deciderFor(version);
  const found = new Map<OrderSagaState, PersistedSaga>();
  const seen = new Set<string>();
  const queue: PersistedSaga[] = [decider.start(SAMPLE_INPUT).saga];
  while (queue.length > 0) {
    const saga = queue.shift()!;
    const key = JSON.stringify([saga.state, saga.context]);
    if (seen.has(key)) continue;
    seen.add(key);
    if (!found.has(saga.state)) found.set(saga.state, saga);
    for (const event of SAMPLE_EVENTS) {
      const next = decider.apply(saga, event);
      if (next.changed) queue.push(next.saga);
    }
  }
  return found;
}

const sample = (type: OrderSagaEvent['type']): OrderSagaEvent => SAMPLE_EVENTS.find((e) => e.type === type)!;

describe.each(MACHINE_VERSIONS.map((v) => [v.version, v] as const))('machine v%s', (_, version) => {
  const decider = deciderFor(version);
  const sagas = sagaInEveryState(version);

  it('reaches every state, and every state has an ignore list (possibly empty)', () => {
    expect([...sagas.keys()].sort()).toEqual(Object.keys(version.machine.root.states).sort());
    for (const [state, node] of Object.entries(version.machine.root.states)) {
      expect({ state, listed: Array.isArray((node.meta as { ignores?: unknown } | undefined)?.ignores) }).toEqual({
        state,
        listed: true,
      });
    }
  });

  it('lists only events it leaves alone: none it also has a transition for, each known, none twice', () => {
    const known = new Set(SAMPLE_EVENTS.map((e) => e.type));
    for (const [state, node] of Object.entries(version.machine.root.states)) {
      const ignores = ignoredBy(node.meta);
      expect({ state, handledAndIgnored: ignores.filter((t) => node.on[t] !== undefined) }).toEqual({
        state,
        handledAndIgnored: [],
      });
      expect({ state, unknown: ignores.filter((t) => !known.has(t)) }).toEqual({ state, unknown: [] });
      expect(new Set(ignores).size).toBe(ignores.length);
    }
  });

  it('an ignored event changes nothing and is expected; an event no state foresees is unexpected', () => {
    for (const [state, saga] of sagas) {
      const node = version.machine.root.states[state];
      for (const event of SAMPLE_EVENTS) {
        const d = decider.apply(saga, event);
        const listed = ignoredBy(node.meta).includes(event.type);
        if (listed)
          expect({ state, event: event.type, changed: d.changed }).toEqual({
            state,
            event: event.type,
            changed: false,
          });
        expect({ state, event: event.type, expected: d.expected }).toEqual({
          state,
          event: event.type,
          expected: d.changed || listed || node.on[event.type] !== undefined,
        });
      }
    }
  });

  it('foresees the known late replies: the hold timer after payment, a duplicate reservation answer', () => {
    const confirming = decider.apply(sagas.get('confirming')!, sample('HOLD_EXPIRED'));
    expect({ changed: confirming.changed, expected: confirming.expected }).toEqual({ changed: false, expected: true });
    const awaiting = decider.apply(sagas.get('awaitingPayment')!, sample('SEATS_RESERVED'));
    expect({ changed: awaiting.changed, expected: awaiting.expected }).toEqual({ changed: false, expected: true });
    // No state before refunding sends a refund: its answer while awaiting payment is a surprise.
    const refund = decider.apply(sagas.get('awaitingPayment')!, sample('REFUND_ISSUED'));
    expect({ changed: refund.changed, expected: refund.expected }).toEqual({ changed: false, expected: false });
  });
});

describe('the outcome, decided once (outcome.ts)', () => {
  const context = startSaga(SAMPLE_INPUT).saga.context;

  it('is named by the event that turns the saga toward its end', () => {
    expect(outcomeAfter(context, sample('PAYMENT_DECLINED'))).toBe('declined');
    expect(outcomeAfter(context, sample('HOLD_EXPIRED'))).toBe('expired');
    expect(outcomeAfter(context, sample('SEATS_UNAVAILABLE'))).toBe('sold-out');
    expect(outcomeAfter(context, sample('OPERATOR_COMPENSATE'))).toBe('compensated');
    const operatorCancel = { ...context, cancelRequested: { by: 'operator:ann', reason: 'fraud' } };
    expect(outcomeAfter(operatorCancel, sample('SEATS_RESERVED'))).toBe('compensated');
  });

  it('is never changed once decided: an expired order whose void reports a decline stays expired', () => {
    expect(outcomeAfter({ ...context, outcome: 'expired' }, sample('PAYMENT_DECLINED'))).toBe('expired');
  });

  it('refuses an event that decides nothing', () => {
    expect(() => outcomeAfter(context, sample('SEATS_CONFIRMED'))).toThrow(SagaInvariantError);
  });
});

describe("the machine's assertions replace fallbacks that made commands a participant rejects", () => {
  it.each(MACHINE_VERSIONS.map((v) => [v.version, v] as const))(
    'v%s: refunding a capture with no payment id fails with a clear message, not RefundPayment(paymentId "")',
    (_, version) => {
      const releasing = sagaInEveryState(version).get('releasingSeats')!;
      const broken: PersistedSaga = {
        ...releasing,
        context: { ...releasing.context, payment: { state: 'captured', paymentId: null, reason: null } },
      };
      expect(() => deciderFor(version).apply(broken, sample('SEATS_RELEASED'))).toThrow(
        new SagaInvariantError('order order-1: refunding without a captured payment id'),
      );
    },
  );

  it.each(MACHINE_VERSIONS.map((v) => [v.version, v] as const))(
    'v%s: releasing seats with no reservation fails with a clear message, not ReleaseSeats(reservationId "")',
    (_, version) => {
      const awaiting = sagaInEveryState(version).get('awaitingPayment')!;
      const broken: PersistedSaga = { ...awaiting, context: { ...awaiting.context, reservation: null } };
      expect(() => deciderFor(version).apply(broken, sample('OPERATOR_COMPENSATE'))).toThrow(
        new SagaInvariantError('order order-1: releasingSeats without a reservation'),
      );
    },
  );
});
