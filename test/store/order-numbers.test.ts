/**
 * Order numbers: the sharded counter's arithmetic (pure), and 300 concurrent allocations on the
 * real table: all distinct, well formed, spread over the shards, each findable once claimed; the
 * blocks (issue 25): one counter write per block, distinct across processes.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  formatOrderNumber,
  ORDER_NUMBER_BLOCK,
  ORDER_NUMBER_REGEX,
  ORDER_NUMBER_SHARDS,
  OrderNumbers,
  OrderNumberTakenError,
  sequenceOf,
} from '../../src/store/order-numbers';
import { as } from '../support/auth';
import { http } from '../support/http';
import { startTestService, type TestService } from '../support/service';

it('(shard, n) → sequence is one-to-one, and the format is ET-<year>-<6+ digits>', () => {
  const seen = new Set<number>();
  for (let shard = 0; shard < ORDER_NUMBER_SHARDS; shard++)
    for (let n = 1; n <= 50; n++) seen.add(sequenceOf(n, shard));
  expect(seen.size).toBe(ORDER_NUMBER_SHARDS * 50);
  expect(Math.min(...seen)).toBe(1);
  expect(formatOrderNumber(2026, 123)).toBe('ET-2026-000123');
  expect(formatOrderNumber(2026, 12345678)).toBe('ET-2026-12345678');
});

describe('on the emulator', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({}, { inProcessWorkers: false, label: 'on' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('300 concurrent allocations are distinct, over every shard, and a claimed number is found', async () => {
    // Blocks of 1: each allocation its own counter write, so the 300 spread over every shard.
    const numbers = new OrderNumbers(service.core.clients.doc, service.core.names.tables.orderNumbers, { block: 1 });
    const now = new Date('2026-06-01T00:00:00Z');
    const all = await Promise.all(Array.from({ length: 300 }, () => numbers.allocate(now)));
    expect(new Set(all).size).toBe(300);
    for (const n of all) expect(n).toMatch(ORDER_NUMBER_REGEX);
    expect(all.every((n) => n.startsWith('ET-2026-'))).toBe(true);
    const shards = new Set(all.map((n) => (Number(n.slice(8)) - 1) % ORDER_NUMBER_SHARDS));
    expect(shards.size).toBe(ORDER_NUMBER_SHARDS);

    await numbers.claim(all[0], 'order-a');
    expect(await numbers.find(all[0])).toBe('order-a');
    expect(await numbers.find(all[1])).toBeUndefined();
    // Its own claim again (a create finished twice) is no conflict; another order's is refused.
    await numbers.claim(all[0], 'order-a');
    await expect(numbers.claim(all[0], 'order-b')).rejects.toBeInstanceOf(OrderNumberTakenError);
    expect(await numbers.find(all[0])).toBe('order-a');
  });

  it('blocks: one counter write per ORDER_NUMBER_BLOCK numbers, distinct across processes racing', async () => {
    const table = service.core.names.tables.orderNumbers;
    // Two "processes", each with its own blocks, on a year nothing else uses.
    const [a, b] = [
      new OrderNumbers(service.core.clients.doc, table),
      new OrderNumbers(service.core.clients.doc, table),
    ];
    const now = new Date('2031-03-01T00:00:00Z');
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).allocate(now)));
    expect(new Set(all).size).toBe(200);
    for (const n of all) expect(n).toMatch(/^ET-2031-\d{6,}$/);
    // The counters of 2031 hold exactly the values taken: 200 numbers in blocks of 10 = 20 writes.
    const { Items } = await service.core.clients.doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(#k, :y)',
        ExpressionAttributeNames: { '#k': 'key' },
        ExpressionAttributeValues: { ':y': 'counter#2031#' },
        ConsistentRead: true,
      }),
    );
    expect((Items ?? []).reduce((sum, item) => sum + Number(item.n), 0)).toBe(200);
    expect(200 % ORDER_NUMBER_BLOCK).toBe(0);
    // A new year starts a new block.
    expect(await a.allocate(new Date('2032-01-01T00:00:00Z'))).toMatch(/^ET-2032-/);
  });

  it('a placed order carries its number and event name, and is found by its number', async () => {
    const eventId = `ev-on-${Date.now()}`;
    expect(
      (
        await http(
          service.baseUrl,
          'PUT',
          `/events/${eventId}/inventory`,
          {
            eventName: 'Night of numbers',
            ticketTypes: [{ ticketType: 'GA', totalQuantity: 5, price: 10, currency: 'EUR' }],
          },
          as.organizer(),
        )
      ).status,
    ).toBe(200);
    const placed = await http<{ orderId: string; orderNumber: string; eventName: string }>(
      service.baseUrl,
      'POST',
      '/orders',
      { customerId: 'c-on', eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_success' },
      as.customer('c-on'),
    );
    expect(placed.status).toBe(202);
    expect(placed.body.orderNumber).toMatch(ORDER_NUMBER_REGEX);
    expect(placed.body.eventName).toBe('Night of numbers');
    const order = await http<{ orderNumber: string; eventName: string }>(
      service.baseUrl,
      'GET',
      `/orders/${placed.body.orderId}`,
      undefined,
      as.customer('c-on'),
    );
    expect(order.body).toMatchObject({ orderNumber: placed.body.orderNumber, eventName: 'Night of numbers' });
    const numbers = new OrderNumbers(service.core.clients.doc, service.core.names.tables.orderNumbers);
    expect(await numbers.find(placed.body.orderNumber)).toBe(placed.body.orderId);
    // The console's search finds it by number.
    const page = await fetch(`${service.baseUrl}/console/sagas?q=${placed.body.orderNumber}`, {
      headers: as.operator(),
    });
    const html = await page.text();
    expect(html).toContain(placed.body.orderId);
    expect(html).toContain('Night of numbers');
  });
});
