/**
 * The saga page's story, pure: sagas driven through the real machine (startSaga/applyEvent), then
 * told. The actions offered follow the ops endpoint's own refusal rules, so a state where
 * /ops/sagas/:id/compensate answers 409 never offers Compensate.
 */
import { applyEvent, startSaga, type OrderSagaEvent, type PersistedSaga } from '../../machines/order-saga';
import { compensationRefusal } from '../../src/ops/stuck-sagas';
import { actionsFor, pendingCommands, storyOf, toneOf, waitingOf } from '../../src/console/story';
import type { NotificationRecord } from '../../src/participants/records';

const money = (minor: number | null | undefined) => `${((minor ?? 0) / 100).toFixed(2)} EUR`;
const RESERVED = {
  type: 'SEATS_RESERVED',
  reservationId: 'o1',
  expiresAt: '2026-11-25T10:00:00.000Z',
  amountMinor: 5000,
  currency: 'EUR',
} as const;

function sagaAfter(...events: OrderSagaEvent[]) {
  let saga: PersistedSaga = startSaga({
    orderId: 'o1',
    customerId: 'c-1',
    eventId: 'e1',
    items: [{ ticketType: 'GA', quantity: 2 }],
    paymentToken: 'tok_success',
    holdSeconds: 600,
  }).saga;
  for (const e of events) saga = applyEvent(saga, e).saga;
  return {
    orderId: 'o1',
    sagaState: saga.state,
    saga,
    status: 'PROCESSING' as const,
    stateEnteredAt: '2026-11-25T09:50:00.000Z',
    sagaVersion: events.length + 1,
  };
}

it('a compensated saga names the operator and the reason; a customer cancel names the customer', () => {
  const compensated = sagaAfter(
    RESERVED,
    { type: 'OPERATOR_COMPENSATE', by: 'operator:ann', reason: 'venue cancelled' },
    { type: 'SEATS_RELEASED' },
  );
  const story = storyOf(compensated, false);
  expect(compensated.sagaState).not.toBe('awaitingPayment');
  expect(story).toMatchObject({ actor: 'operator ann', cause: 'venue cancelled', tone: toneOf(compensated, false) });
  expect(story.title).toMatch(/Compensated$/);

  const cancelled = sagaAfter(RESERVED, { type: 'CANCEL_REQUESTED', by: 'customer:c-1', reason: 'changed my mind' });
  expect(storyOf(cancelled, false)).toMatchObject({ actor: 'the customer c-1', cause: 'changed my mind' });
  const declined = sagaAfter(RESERVED, { type: 'PAYMENT_DECLINED', reason: 'card declined' });
  expect(storyOf(declined, false)).toMatchObject({ title: 'Ending: Declined', cause: 'card declined', actor: null });
});

it('an open saga waits on its command, with the attempt and the hold', () => {
  const saga = sagaAfter(RESERVED);
  expect(saga.sagaState).toBe('awaitingPayment');
  expect(waitingOf(saga, undefined)).toMatchObject({
    commands: ['ChargePayment'],
    attempt: 1,
    holdExpiresAt: '2026-11-25T10:00:00.000Z',
  });
  expect(waitingOf({ ...saga, resendLease: { version: saga.sagaVersion, count: 2, at: 'x' } })?.attempt).toBe(3);
  expect(toneOf(saga, true)).toBe('stuck');
});

it('actions: none for a read-only operator; Compensate exactly where the ops endpoint accepts it, with the refund', () => {
  const awaiting = sagaAfter(RESERVED);
  const ro = actionsFor(awaiting, ['operator'], money);
  expect(ro.offered).toEqual([]);
  expect(ro.withheld.map((w) => w.why)).toEqual([
    expect.stringContaining('read only'),
    expect.stringContaining('read only'),
  ]);

  const repair = actionsFor(awaiting, ['operator', 'operator-repair'], money);
  const compensate = repair.offered.find((a) => a.action === 'compensate');
  expect(compensate?.effect).toContain('releases 2 seats');
  expect(compensate?.effect).toContain('Refunds 50.00 EUR');

  const settling = sagaAfter(
    RESERVED,
    { type: 'CANCEL_REQUESTED', by: 'customer:c-1', reason: 'x' },
    { type: 'SEATS_RELEASED' },
  );
  for (const saga of [awaiting, settling]) {
    const offered = actionsFor(saga, ['operator-repair'], money).offered.some((a) => a.action === 'compensate');
    expect(offered).toBe(compensationRefusal(saga) === null);
  }
  expect(settling.sagaState).toBe('settlingPayment');
  expect(actionsFor(settling, ['operator-repair'], money).withheld).toEqual([
    { action: 'compensate', why: compensationRefusal(settling) },
  ]);
});

it('a SendNotification whose record shows sentAt is not pending', () => {
  const saga = sagaAfter(
    RESERVED,
    { type: 'PAYMENT_CAPTURED', paymentId: 'p1', amountMinor: 5000, currency: 'EUR' },
    {
      type: 'SEATS_CONFIRMED',
    },
  );
  expect(saga.saga.outbox.map((c) => c.kind)).toContain('SendNotification');
  const sent: NotificationRecord = {
    notificationId: 'o1:SendNotification',
    orderId: 'o1',
    customerId: 'c-1',
    template: 'order-completed',
    sentAt: '2026-11-25T09:55:00.000Z',
  };
  expect(pendingCommands(saga.saga.outbox, sent).map((c) => c.kind)).not.toContain('SendNotification');
  expect(pendingCommands(saga.saga.outbox, undefined).map((c) => c.kind)).toContain('SendNotification');
});
