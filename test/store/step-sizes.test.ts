/**
 * Issue 25, write units by item size: DynamoDB bills a write 1 WRU per started KB of the item
 * (an UpdateItem on the larger of the item before and after it), so each saga step's Events row
 * (the commit) and each version of the order item (the projection) should stay ≤ 1,024 bytes.
 * Measured here on real sagas (the whole service on the emulator, ORDER_ITEM_FORMAT=compact)
 * through every step, by AWS's item-size rules as the cost meter applies them (`itemSize`):
 * - every Events row of every saga, read back raw;
 * - every version of the order item: the create's Put as sent, and the item read back (raw,
 *   strongly consistent) right after every UpdateItem of it.
 * The common case (up to 10 seats over up to 3 ticket types, IdP-length customer ids, the longest
 * Idempotency-Key) fits; the largest inputs the schemas allow do not, and are measured against
 * the bound docs/data-model.md states for them. Nothing is lost: the row alone, over the order's
 * fixed fields, gives back the saga the item holds, and the history's commands come back whole.
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { QueryCommand as DocQueryCommand } from '@aws-sdk/lib-dynamodb';
import { itemSize } from '../../src/observability/cost-meter';
import { exactSaga, type LatestEventRow } from '../../src/store/event-snapshot';
import { as } from '../support/auth';
import { http } from '../support/http';
import { customerNotice, eventually, startTestService, type TestService } from '../support/service';

let service: TestService;
/** Bytes of every order item version seen, by order id. */
const itemVersions = new Map<string, number[]>();

type Marshalled = Record<string, AttributeValue>;

beforeAll(async () => {
  service = await startTestService({ ORDER_ITEM_FORMAT: 'compact' }, { label: 'ssz' });
  const orders = service.core.names.tables.orders;
  const seen = (orderId: string, bytes: number): void => {
    itemVersions.set(orderId, [...(itemVersions.get(orderId) ?? []), bytes]);
  };
  // Watches the service's own DynamoDB client: every write of an order item is measured.
  service.core.clients.ddb.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const input = args.input as {
        TableName?: string;
        Key?: Marshalled;
        TransactItems?: Array<{ Put?: { TableName?: string; Item?: Marshalled } }>;
      };
      for (const t of input.TransactItems ?? [])
        if (t.Put?.TableName === orders && t.Put.Item?.orderId?.S) seen(t.Put.Item.orderId.S, itemSize(t.Put.Item));
      const orderId = input.TableName === orders ? input.Key?.orderId?.S : undefined;
      if (orderId) {
        const { Item } = await service.aws.clients.ddb.send(
          new GetItemCommand({ TableName: orders, Key: { orderId: { S: orderId } }, ConsistentRead: true }),
        );
        seen(orderId, itemSize(Item));
      }
      return out;
    },
    { step: 'finalizeRequest', name: 'testItemVersionSizes' },
  );
});
afterAll(async () => {
  await service?.stop();
});

interface Order {
  customerId: string;
  items: Array<{ ticketType: string; quantity: number }>;
  paymentToken: string;
  eventId?: string;
  eventName?: string;
}

/** Places the order over HTTP (the longest Idempotency-Key) and waits for its saga to end and be notified. */
async function runSaga(order: Order): Promise<string> {
  const eventId = order.eventId ?? `ev-${randomUUID()}`;
  const put = await http(
    service.baseUrl,
    'PUT',
    `/events/${eventId}/inventory`,
    {
      eventName: order.eventName ?? 'The Long Night Tour: Wembley, London 2027',
      ticketTypes: [...new Set(order.items.map((i) => i.ticketType))].map((ticketType) => ({
        ticketType,
        totalQuantity: 1000,
        price: 149.99,
        currency: 'EUR',
      })),
    },
    as.organizer(),
  );
  expect(put.status).toBe(200);
  const placed = await http<{ orderId: string }>(
    service.baseUrl,
    'POST',
    '/orders',
    { eventId, items: order.items, paymentToken: order.paymentToken },
    { ...as.customer(order.customerId), 'Idempotency-Key': `${randomUUID()}-`.padEnd(128, 'k') },
  );
  expect(placed.status).toBe(202);
  const orderId = placed.body.orderId;
  // Ended, and the customer told; then the notification's reply is applied (a completed order's
  // last step) or ignored (a cancelled one's final state takes no step).
  await eventually(
    () => service.core.store.load(orderId),
    (s) => s !== undefined && ['COMPLETED', 'CANCELLED', 'FAILED'].includes(s.status),
  );
  await customerNotice(service.core, orderId);
  await eventually(
    () => service.core.store.load(orderId),
    (s) => s!.status !== 'COMPLETED' || s!.saga.outbox.length === 0,
  );
  return orderId;
}

async function eventRows(orderId: string): Promise<Marshalled[]> {
  const { Items } = await service.aws.clients.ddb.send(
    new QueryCommand({
      TableName: service.core.names.tables.events,
      KeyConditionExpression: 'aggregateId = :a',
      ExpressionAttributeValues: { ':a': { S: orderId } },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

/** Bytes per Events row (by version) and per order item version, as AWS sizes them. */
async function sizes(orderId: string): Promise<{ rows: Record<string, number>; items: number[] }> {
  const rows = Object.fromEntries(
    (await eventRows(orderId)).map((r) => [`v${r.version.N} ${r.eventType.S}`, itemSize(r)]),
  );
  return { rows, items: itemVersions.get(orderId) ?? [] };
}

/** The saga read from its latest Events row alone (the item's fixed fields under it) is the item's saga. */
async function expectRowCarriesTheSaga(orderId: string): Promise<void> {
  const item = (await service.core.store.loadProjection(orderId))!;
  // The item leaves the applied event ids to its row ('compact' past version 1).
  expect(item.appliedEventIds).toEqual([]);
  const exact = (await service.core.store.load(orderId))!;
  expect(exact.appliedEventIds[0]).toBe(':ORDER_PLACED');
  const { Items } = await service.aws.clients.doc.send(
    new DocQueryCommand({
      TableName: service.core.names.tables.events,
      KeyConditionExpression: 'aggregateId = :a',
      ExpressionAttributeValues: { ':a': orderId },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  const latest = Items![0] as LatestEventRow;
  expect(latest.version).toBe(item.sagaVersion);
  // As if the item still held the version before: everything the saga is comes from the row.
  const fromRow = exactSaga({ ...item, sagaVersion: item.sagaVersion - 1 }, latest);
  expect({ ...fromRow, projectedVersion: undefined, projectedState: undefined }).toEqual(exact);
  // The history's commands come back whole.
  for (const entry of await service.core.store.history(orderId))
    for (const command of entry.commands ?? []) {
      expect(command.orderId).toBe(orderId);
      expect(command.commandId).toBe(`${orderId}:${command.kind}`);
    }
}

/** An IdP-style customer id (Auth0: `auth0|` + 24 hex; `|` is not allowed, so `-`), 30 characters. */
const idpCustomer = (): string => `auth0-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
/** 10 seats over 3 ticket types with realistic names. */
const tenSeats = [
  { ticketType: 'GA-STANDING', quantity: 6 },
  { ticketType: 'VIP-LOUNGE', quantity: 2 },
  { ticketType: 'SEATED-BLOCK-A', quantity: 2 },
];

describe('the common case: every Events row and every order item version ≤ 1 KB', () => {
  it('a completed order of 10 seats', async () => {
    const orderId = await runSaga({ customerId: idpCustomer(), items: tenSeats, paymentToken: 'tok_success' });
    const measured = await sizes(orderId);
    expect(Object.keys(measured.rows)).toEqual([
      'v1 ORDER_PLACED',
      'v2 SEATS_RESERVED',
      'v3 PAYMENT_CAPTURED',
      'v4 SEATS_CONFIRMED',
      'v5 NOTIFICATION_SENT',
    ]);
    process.stdout.write(`completed, bytes: ${JSON.stringify(measured)}\n`);
    for (const bytes of [...Object.values(measured.rows), ...measured.items]) expect(bytes).toBeLessThanOrEqual(1024);
    expect(measured.items.length).toBeGreaterThanOrEqual(5);
    await expectRowCarriesTheSaga(orderId);
    // The item holds no applied ids past version 1: a redelivered reply is still recognised (from the row).
    const redelivered = await service.core.runtime.deliver(orderId, `${orderId}:ChargePayment:reply`, {
      type: 'PAYMENT_CAPTURED',
      paymentId: 'ch-again',
      amountMinor: 149990,
      currency: 'EUR',
    });
    expect(redelivered).toBe('duplicate');
    expect((await service.core.store.load(orderId))!.sagaVersion).toBe(5);
  });

  it('a declined payment, its seats released (compensation), the customer told', async () => {
    const orderId = await runSaga({ customerId: randomUUID(), items: tenSeats, paymentToken: 'tok_declined' });
    const measured = await sizes(orderId);
    expect(Object.keys(measured.rows)).toEqual([
      'v1 ORDER_PLACED',
      'v2 SEATS_RESERVED',
      'v3 PAYMENT_DECLINED',
      'v4 SEATS_RELEASED',
    ]);
    process.stdout.write(`declined, bytes: ${JSON.stringify(measured)}\n`);
    for (const bytes of [...Object.values(measured.rows), ...measured.items]) expect(bytes).toBeLessThanOrEqual(1024);
    await expectRowCarriesTheSaga(orderId);
  });
});

describe('the largest inputs the schemas allow', () => {
  it('keep the step rows ≤ 1 KB; the create row ≤ 5 KB and the item ≤ 4 KB (docs/data-model.md)', async () => {
    // customerId: 128 characters (the API's id pattern); eventId 128; 20 ticket types of 64
    // characters (orderItemsSchema); a 200-character payment token (declined: only tok_success
    // captures) and event name.
    const orderId = await runSaga({
      customerId: `c${'x'.repeat(127)}`,
      eventId: `e${randomUUID()}`.padEnd(128, 'e'),
      eventName: 'n'.repeat(200),
      items: Array.from({ length: 20 }, (_, i) => ({ ticketType: `${i}`.padStart(64, 't'), quantity: 1 })),
      paymentToken: 'tok_'.padEnd(200, 'z'),
    });
    const measured = await sizes(orderId);
    expect(Object.keys(measured.rows)).toHaveLength(4);
    process.stdout.write(`largest inputs, bytes: ${JSON.stringify(measured)}\n`);
    const { 'v1 ORDER_PLACED': created, ...steps } = measured.rows;
    for (const bytes of Object.values(steps)) expect(bytes).toBeLessThanOrEqual(1024);
    expect(created).toBeLessThanOrEqual(5 * 1024);
    for (const bytes of measured.items) expect(bytes).toBeLessThanOrEqual(4 * 1024);
    await expectRowCarriesTheSaga(orderId);
  });
});
