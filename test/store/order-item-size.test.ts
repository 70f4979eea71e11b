/**
 * ORDER_ITEM_FORMAT=packed: the order item of a completed order stays under 1 KB (DynamoDB bills a
 * write per started KB, 2x inside a transaction: every saga step is one), without losing what it
 * holds: the snapshot read back is whole, and a redelivered event is still recognised as applied —
 * on items written packed and on items written whole (the default 'full' format, which every
 * earlier build reads and writes: checked here on the raw item).
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { itemSize } from '../../src/observability/cost-meter';
import { appliedBefore, rememberedEventId, unpackOrderItem } from '../../src/store/order-item';
import type { StoredSaga } from '../../src/store/saga-store';
import { as } from '../support/auth';
import { http } from '../support/http';
import { eventually, startTestService, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ ORDER_ITEM_FORMAT: 'packed' }, { label: 'sz' });
});
afterAll(async () => {
  await service?.stop();
});

/** A realistic order: a 40-character event name, an IdP-style customer id, an HTTP request hash. */
async function completedOrder(on: TestService = service): Promise<string> {
  const eventId = `ev-${randomUUID()}`;
  const customerId = `cus_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  const put = await http(
    on.baseUrl,
    'PUT',
    `/events/${eventId}/inventory`,
    {
      eventName: 'The Long Night Tour: Wembley, London 2027',
      ticketTypes: [{ ticketType: 'GA', totalQuantity: 10, price: 49.5, currency: 'EUR' }],
    },
    as.organizer(),
  );
  expect(put.status).toBe(200);
  const placed = await http<{ orderId: string }>(
    on.baseUrl,
    'POST',
    '/orders',
    { eventId, items: [{ ticketType: 'GA', quantity: 2 }], paymentToken: 'tok_success' },
    as.customer(customerId),
  );
  expect(placed.status).toBe(202);
  const orderId = placed.body.orderId;
  // The order item is a projection of the Events rows (issue 25): it reaches COMPLETED just after
  // the saga does, and this test measures the item, so it waits on the item.
  await eventually(
    async () => (await on.core.store.loadProjection(orderId))?.status,
    (s) => s === 'COMPLETED',
  );
  return orderId;
}

it('keeps a completed order item under 1 KB, its snapshot whole when read back', async () => {
  const orderId = await completedOrder();
  const { Item } = await service.aws.clients.ddb.send(
    new GetItemCommand({
      TableName: service.aws.names.tables.orders,
      Key: { orderId: { S: orderId } },
      ConsistentRead: true,
    }),
  );
  // AWS's item size rules (attribute names + values), as the cost meter applies them.
  expect(itemSize(Item)).toBeLessThanOrEqual(1024);

  const saga = (await service.core.store.load(orderId))!;
  expect(saga.saga.context).toMatchObject({
    orderId,
    customerId: saga.customerId,
    eventId: saga.eventId,
    items: saga.items,
    reservation: { reservationId: orderId, amountMinor: 9900, currency: 'EUR' },
    outcome: 'completed',
  });
  expect(saga.appliedEventIds).toEqual([
    ':ORDER_PLACED',
    ':ReserveSeats:reply',
    ':ChargePayment:reply',
    ':ConfirmSeats:reply',
    ':SendNotification:reply',
  ]);
  // A redelivered reply is recognised (the last one re-sends the outbox), whole id or not.
  expect(appliedBefore(saga, `${orderId}:SendNotification:reply`)).toBe('last');
  expect(appliedBefore(saga, `${orderId}:ReserveSeats:reply`)).toBe('earlier');
  expect(appliedBefore(saga, `${orderId}:ReleaseSeats:reply`)).toBeNull();
  const redelivered = await service.core.runtime.deliver(orderId, `${orderId}:ChargePayment:reply`, {
    type: 'PAYMENT_CAPTURED',
    paymentId: `ch_${orderId}`,
    amountMinor: 9900,
    currency: 'EUR',
  });
  expect(redelivered).toBe('duplicate');
  expect((await service.core.store.load(orderId))!.sagaVersion).toBe(saga.sagaVersion);
});

it('reads items written before the item was shortened: whole ids and a whole snapshot', () => {
  const orderId = randomUUID();
  const context = {
    orderId,
    customerId: 'c-1',
    eventId: 'ev-1',
    items: [{ ticketType: 'GA', quantity: 1 }],
    reservation: { reservationId: `other-${orderId}`, amountMinor: 100, currency: 'EUR', expiresAt: 'x' },
    outcome: null,
    // Every machine version's context holds these (null until set); a whole item stores them.
    refund: null,
    cancelRequested: null,
    failureReason: null,
  };
  const legacy = {
    orderId,
    customerId: 'c-1',
    eventId: 'ev-1',
    items: [{ ticketType: 'GA', quantity: 1 }],
    appliedEventIds: [`${orderId}:ORDER_PLACED`, `cancel:key-1`, `${orderId}:ReserveSeats:reply`],
    saga: { state: 'awaitingPayment', machineVersion: '2', outbox: [], context },
  } as unknown as Record<string, unknown>;
  const read = unpackOrderItem(legacy);
  expect(read.saga.context).toEqual(context);
  expect(appliedBefore(read, `${orderId}:ReserveSeats:reply`)).toBe('last');
  expect(appliedBefore(read, `${orderId}:ORDER_PLACED`)).toBe('earlier');
  expect(appliedBefore(read, 'cancel:key-1')).toBe('earlier');
  expect(appliedBefore(read, 'cancel:key-2')).toBeNull();
  // Ids that are not the saga's own keep their whole form.
  expect(rememberedEventId(orderId, 'cancel:key-1', 'packed')).toBe('cancel:key-1');
  expect(rememberedEventId(orderId, `${orderId}:HOLD_EXPIRED`, 'packed')).toBe(':HOLD_EXPIRED');
  expect(rememberedEventId(orderId, `${orderId}:HOLD_EXPIRED`, 'full')).toBe(`${orderId}:HOLD_EXPIRED`);
});

it('packs only fields equal to the order: a snapshot that differs keeps its own value', () => {
  const orderId = randomUUID();
  const packed = {
    orderId,
    customerId: 'c-1',
    eventId: 'ev-1',
    items: [{ ticketType: 'GA', quantity: 1 }],
    appliedEventIds: [],
    saga: { state: 'reserving', machineVersion: '2', outbox: [], context: { eventId: 'ev-other', outcome: null } },
  } as unknown as StoredSaga;
  const read = unpackOrderItem(packed as unknown as Record<string, unknown>);
  expect(read.saga.context).toMatchObject({
    orderId,
    customerId: 'c-1',
    eventId: 'ev-other',
    items: [{ ticketType: 'GA', quantity: 1 }],
  });
});

describe('ORDER_ITEM_FORMAT=full (as every build before issue 14 reads it; the rollout setting)', () => {
  let full: TestService;
  beforeAll(async () => {
    full = await startTestService({ ORDER_ITEM_FORMAT: 'full' }, { label: 'szf' });
  });
  afterAll(async () => {
    await full?.stop();
  });

  it('writes the item whole, as every earlier build reads it: whole ids, the whole snapshot', async () => {
    const orderId = await completedOrder(full);
    const { Item } = await full.aws.clients.doc.send(
      new GetCommand({ TableName: full.aws.names.tables.orders, Key: { orderId }, ConsistentRead: true }),
    );
    const raw = Item as unknown as StoredSaga;
    expect(raw.appliedEventIds).toEqual([
      `${orderId}:ORDER_PLACED`,
      `${orderId}:ReserveSeats:reply`,
      `${orderId}:ChargePayment:reply`,
      `${orderId}:ConfirmSeats:reply`,
      `${orderId}:SendNotification:reply`,
    ]);
    expect(raw.stateEnteredAt).toBe(raw.updatedAt);
    expect(raw.saga.context).toMatchObject({
      orderId,
      customerId: raw.customerId,
      eventId: raw.eventId,
      items: raw.items,
      reservation: { reservationId: orderId, amountMinor: 9900, currency: 'EUR' },
    });
    expect(unpackOrderItem(Item!)).toEqual(raw);
  });
});
