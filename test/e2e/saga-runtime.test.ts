/**
 * The order saga end to end on the real emulator, driven through the runtime (no HTTP): every
 * outcome the machine promises happens to the seats, the payment and the history.
 */
import { readInventoryRows } from '../../src/participants';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { readPayment, readReservation, type ReservationRecord } from '../../src/participants/records';
import type { StoredSaga } from '../../src/store/saga-store';
import {
  customerNotice,
  eventually,
  newEvent,
  placeOrder,
  startTestService,
  type TestService,
} from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ HOLD_SECONDS: '2', PAYMENT_SLOW_MS: '4000' });
});
afterAll(async () => {
  await service?.stop();
});

const place = (eventId: string, paymentToken: string, quantity = 2): Promise<string> =>
  placeOrder(service.core, { eventId, paymentToken, quantity });

const finalOf = (orderId: string): Promise<StoredSaga> =>
  eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => ['COMPLETED', 'CANCELLED', 'FAILED'].includes(s.status),
  );

/**
 * GA's available seats (the row), and its held and sold seats (the event's ACTIVE and CONFIRMED
 * reservations: a test-only scan). The row counts both as taken: checked equal.
 */
async function stock(eventId: string) {
  const row = (await readInventoryRows(service.core.participantDeps, eventId)).get('GA')!;
  const { Items = [] } = await service.core.participantDeps.doc.send(
    new ScanCommand({
      TableName: service.core.participantDeps.tables.reservations,
      FilterExpression: '#e = :e',
      ExpressionAttributeNames: { '#e': 'eventId' },
      ExpressionAttributeValues: { ':e': eventId },
      ConsistentRead: true,
    }),
  );
  const seats = (status: string) =>
    (Items as ReservationRecord[])
      .filter((r) => r.status === status)
      .reduce((a, r) => a + r.items.reduce((b, i) => b + i.quantity, 0), 0);
  const [reserved, sold] = [seats('ACTIVE'), seats('CONFIRMED')];
  expect(row.reservedQuantity + row.soldQuantity).toBe(reserved + sold);
  return { available: row.availableQuantity, reserved, sold };
}

describe('the order saga on DynamoDB + SQS', () => {
  it('completes a paid order: seats sold, history contiguous, notification sent', async () => {
    const eventId = await newEvent(service.core, 10, 25);
    const orderId = await place(eventId, 'tok_success');
    const saga = await finalOf(orderId);
    expect(saga.status).toBe('COMPLETED');
    expect(await stock(eventId)).toEqual({ available: 8, reserved: 0, sold: 2 });
    const history = await service.core.store.history(orderId);
    expect(history.map((h) => h.version)).toEqual([1, 2, 3, 4, 5]);
    expect(history.map((h) => h.eventType)).toEqual([
      'ORDER_PLACED',
      'SEATS_RESERVED',
      'PAYMENT_CAPTURED',
      'SEATS_CONFIRMED',
      'NOTIFICATION_SENT',
    ]);
    expect((await readPayment(service.core.participantDeps, orderId))?.status).toBe('CAPTURED');
    expect((await readReservation(service.core.participantDeps, orderId))?.status).toBe('CONFIRMED');
    expect(await customerNotice(service.core, orderId)).toMatchObject({
      template: 'order-completed',
      outcome: 'completed',
      customerId: saga.customerId,
    });
  });

  it('cancels a declined payment and puts the seats back', async () => {
    const eventId = await newEvent(service.core, 10, 25);
    const orderId = await place(eventId, 'tok_declined');
    const saga = await finalOf(orderId);
    expect(saga.status).toBe('CANCELLED');
    expect(saga.saga.context.outcome).toBe('declined');
    expect(await stock(eventId)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect((await readReservation(service.core.participantDeps, orderId))?.status).toBe('RELEASED');
    expect(await customerNotice(service.core, orderId)).toMatchObject({
      template: 'order-cancelled',
      outcome: 'declined',
    });
  });

  it('fails a sold-out order without touching stock', async () => {
    const eventId = await newEvent(service.core, 1, 25);
    const orderId = await place(eventId, 'tok_success', 2);
    const saga = await finalOf(orderId);
    expect(saga.status).toBe('FAILED');
    expect(await stock(eventId)).toEqual({ available: 1, reserved: 0, sold: 0 });
    expect(await customerNotice(service.core, orderId)).toMatchObject({
      template: 'order-failed',
      outcome: 'sold-out',
    });
  });

  it('expires the hold, then refunds the payment that came in late', async () => {
    const eventId = await newEvent(service.core, 10, 25);
    // tok_slow takes 4 s; the hold is 2 s.
    const orderId = await place(eventId, 'tok_slow');
    const saga = await finalOf(orderId);
    expect(saga.status).toBe('CANCELLED');
    expect(saga.saga.context.outcome).toBe('expired');
    expect(saga.saga.context.refund?.amountMinor).toBe(5000);
    expect(await stock(eventId)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect((await readReservation(service.core.participantDeps, orderId))?.status).toBe('EXPIRED');
    expect((await readPayment(service.core.participantDeps, orderId))?.status).toBe('REFUNDED');
    const types = (await service.core.store.history(orderId)).map((h) => h.eventType);
    expect(types).toEqual([
      'ORDER_PLACED',
      'SEATS_RESERVED',
      'HOLD_EXPIRED',
      'SEATS_RELEASED',
      'PAYMENT_CAPTURED',
      'REFUND_ISSUED',
    ]);
    expect(await customerNotice(service.core, orderId)).toMatchObject({
      template: 'order-cancelled',
      outcome: 'expired',
    });
  });
});
