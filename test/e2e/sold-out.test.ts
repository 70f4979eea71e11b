/**
 * Sold out up front: once a ticket type has no seat left in any shard, POST /orders answers 409
 * sold-out from the Redis flag and starts no saga; the flag goes when seats come back.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { JsonCache } from '../../src/cache/json-cache';
import { closeRedis, createRedis } from '../../src/cache/redis';
import { SoldOutFlags, soldOutKey } from '../../src/cache/sold-out';
import { createLogger } from '../../src/observability/logger';
import { handleInventoryCommand } from '../../src/participants/inventory';
import { putEventInventory } from '../../src/participants/inventory-admin';
import { soldOutTruth } from '../../src/participants/sold-out-truth';
import { participantDeps, release, reserve } from '../participants/helpers';
import { as } from '../support/auth';
import { http, postOrder } from '../support/http';
import { eventually, startTestService, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({}, { label: 'so' });
});
afterAll(async () => {
  await service?.stop();
});

async function orderCount(): Promise<number> {
  const { Count } = await service.core.clients.doc.send(
    new ScanCommand({ TableName: service.aws.names.tables.orders, Select: 'COUNT', ConsistentRead: true }),
  );
  return Count ?? 0;
}

const post = (eventId: string, customerId: string, key?: string) =>
  postOrder(
    service.baseUrl,
    { customerId, eventId, paymentToken: 'tok_success' },
    key ? { 'Idempotency-Key': key } : {},
  );

it('answers sold-out at POST without starting a saga, and accepts orders again when seats come back', async () => {
  const eventId = `ev-${randomUUID()}`;
  const put = (totalQuantity: number) =>
    http(
      service.baseUrl,
      'PUT',
      `/events/${eventId}/inventory`,
      {
        eventName: 'Flash',
        ticketTypes: [{ ticketType: 'GA', totalQuantity, price: 10, currency: 'EUR', shards: 2 }],
      },
      as.organizer(),
    );
  expect((await put(1)).status).toBe(200);

  const first = await post(eventId, 'early', 'early-key');
  const second = await post(eventId, 'late');
  expect([first.status, second.status]).toEqual([202, 202]);
  // Both were accepted before the flag: one completes, the other fails sold-out through its saga.
  const ends = await eventually(
    () => Promise.all([first, second].map((r) => service.core.store.load(String(r.body.orderId)))),
    (s) => s.every((x) => x && ['COMPLETED', 'FAILED'].includes(x.status)),
  );
  expect(ends.map((s) => s!.status).sort()).toEqual(['COMPLETED', 'FAILED']);
  expect(ends.find((s) => s!.status === 'FAILED')!.saga.context.outcome).toBe('sold-out');

  const before = await orderCount();
  const refused = await Promise.all(Array.from({ length: 5 }, (_, i) => post(eventId, `rush-${i}`)));
  for (const r of refused) {
    expect(r.status).toBe(409);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r.body).toMatchObject({
      type: 'https://eventticket.dev/problems/sold-out',
      status: 409,
      ticketTypes: ['GA'],
    });
  }
  expect(await orderCount()).toBe(before);
  // A replay of an order accepted before the flag is still answered as that order.
  const replay = await post(eventId, 'early', 'early-key');
  expect(replay.status).toBe(202);
  expect(replay.body.orderId).toBe(first.body.orderId);

  // More seats: the flag goes, orders are accepted again.
  expect((await put(2)).status).toBe(200);
  expect((await post(eventId, 'after-restock')).status).toBe(202);
});

it('a release or expiry clears the flag; the flag is verified against the store when set', async () => {
  const logger = createLogger('error');
  const redis = createRedis(service.config.redisUrl, logger);
  const cache = new JsonCache(redis, logger, { keyPrefix: `${service.aws.prefix}t2-` });
  try {
    await eventually(
      async () => cache.available,
      (up) => up,
      5000,
    );
    const base = participantDeps(service.aws);
    const flags = new SoldOutFlags(cache, soldOutTruth(base));
    const deps = { ...base, soldOut: flags };
    const eventId = `ev-${randomUUID()}`;
    await putEventInventory(deps, eventId, 'Flash', [
      { ticketType: 'GA', totalQuantity: 1, priceMinor: 1000, currency: 'EUR', shards: 3 },
    ]);
    const holder = randomUUID();
    expect(
      (await handleInventoryCommand(reserve(holder, eventId, [{ ticketType: 'GA', quantity: 1 }]), deps)).type,
    ).toBe('SEATS_RESERVED');
    expect(await flags.flagged(eventId, ['GA'])).toEqual([]);
    expect(
      (await handleInventoryCommand(reserve(randomUUID(), eventId, [{ ticketType: 'GA', quantity: 1 }]), deps)).type,
    ).toBe('SEATS_UNAVAILABLE');
    expect(await flags.flagged(eventId, ['GA'])).toEqual(['GA']);

    await handleInventoryCommand(release(holder, 'EXPIRED'), deps);
    expect(await flags.flagged(eventId, ['GA'])).toEqual([]);

    // A flag asked for while seats are there does not stay: the store says otherwise.
    await flags.soldOut(eventId, ['GA']);
    expect((await cache.get(soldOutKey(eventId, 'GA'))).status).toBe('MISS');
  } finally {
    await closeRedis(redis);
  }
});
