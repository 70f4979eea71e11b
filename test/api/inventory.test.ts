/** /events/:eventId/inventory through the Redis cache, and /actuator/health, on the real emulator and Redis. */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { inventoryCatalogKey, inventoryKey } from '../../src/cache/inventory-cache';
import { handleInventoryCommand } from '../../src/participants/inventory';
import { putEventInventory } from '../../src/participants/inventory-admin';
import { createApiHarness, PROBLEM_JSON, uniqueId, type ApiHarness } from './harness';
import { as } from '../support/auth';

/** An organizer's requests (PUT and GET inventory are theirs). */
const organizer = () => request.agent(h.app).set(as.organizer());

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness({ label: 'apii' });
});

afterAll(async () => {
  await h?.close();
});

const ticketTypes = [
  { ticketType: 'GA', totalQuantity: 100, price: 49.5, currency: 'EUR' },
  { ticketType: 'VIP', totalQuantity: 10, price: 150, currency: 'EUR' },
];

async function reserve(eventId: string, quantity: number): Promise<void> {
  const orderId = randomUUID();
  const reply = await handleInventoryCommand(
    {
      kind: 'ReserveSeats',
      commandId: `${orderId}:ReserveSeats`,
      orderId,
      eventId,
      items: [{ ticketType: 'VIP', quantity }],
      holdSeconds: 60,
    },
    h.participantDeps,
  );
  expect(reply.type).toBe('SEATS_RESERVED');
}

describe('inventory', () => {
  it('creates, then serves MISS then HIT, and a PUT invalidates', async () => {
    const eventId = uniqueId('show');
    const put = await organizer()
      .put(`/events/${eventId}/inventory`)
      .send({ eventName: 'Show', ticketTypes })
      .expect(200);
    expect(put.body).toEqual({
      eventId,
      eventName: 'Show',
      ticketTypes: [
        {
          ticketType: 'GA',
          totalQuantity: 100,
          availableQuantity: 100,
          takenQuantity: 0,
          price: 49.5,
          currency: 'EUR',
        },
        {
          ticketType: 'VIP',
          totalQuantity: 10,
          availableQuantity: 10,
          takenQuantity: 0,
          price: 150,
          currency: 'EUR',
        },
      ],
    });

    const miss = await organizer().get(`/events/${eventId}/inventory`).expect(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(miss.body).toEqual(put.body);
    const hit = await organizer().get(`/events/${eventId}/inventory`).expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body).toEqual(put.body);
    const ttl = await h.redis.pttl(`${h.aws.prefix}${inventoryKey(eventId)}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);

    await organizer()
      .put(`/events/${eventId}/inventory`)
      .send({ eventName: 'Show (moved)', ticketTypes: [{ ...ticketTypes[0], totalQuantity: 120 }] })
      .expect(200);
    const after = await organizer().get(`/events/${eventId}/inventory`).expect(200);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.body.eventName).toBe('Show (moved)');
    expect(after.body.ticketTypes[0]).toMatchObject({ ticketType: 'GA', totalQuantity: 120, availableQuantity: 120 });
    // Ticket types left out of a PUT are kept.
    expect(after.body.ticketTypes[1]).toMatchObject({ ticketType: 'VIP', totalQuantity: 10 });
  });

  it('is invalidated when the inventory participant moves seats', async () => {
    const eventId = uniqueId('show');
    await organizer().put(`/events/${eventId}/inventory`).send({ eventName: 'Show', ticketTypes }).expect(200);
    await organizer().get(`/events/${eventId}/inventory`).expect(200);
    expect((await organizer().get(`/events/${eventId}/inventory`).expect(200)).headers['x-cache']).toBe('HIT');
    await reserve(eventId, 3);
    const res = await organizer().get(`/events/${eventId}/inventory`).expect(200);
    expect(res.headers['x-cache']).toBe('MISS');
    expect(res.body.ticketTypes[1]).toMatchObject({
      ticketType: 'VIP',
      totalQuantity: 10,
      availableQuantity: 7,
      takenQuantity: 3,
    });
  });

  /** POST /orders for one seat of `ticketType` of `eventId`, as `customer`. */
  const placeOne = (eventId: string, customer: string, ticketType: string) =>
    request(h.app)
      .post('/orders')
      .set(as.customer(customer))
      .send({ customerId: customer, eventId, items: [{ ticketType, quantity: 1 }], paymentToken: 'tok_success' });

  it('keeps the catalog POST /orders checks against while seats move, and drops it with a PUT', async () => {
    const eventId = uniqueId('show');
    const customer = uniqueId('cust');
    const placeVip = () => placeOne(eventId, customer, 'VIP');
    const catalogKey = `${h.aws.prefix}${inventoryCatalogKey(eventId)}`;
    await organizer()
      .put(`/events/${eventId}/inventory`)
      .send({ eventName: 'Show', ticketTypes: [ticketTypes[0]] })
      .expect(200);
    const refused = await placeVip().expect(422);
    expect(refused.body).toMatchObject({ type: expect.stringContaining('unprocessable-order') });
    expect(await h.redis.exists(catalogKey)).toBe(1);

    // Seats moving drop the full view (its counts changed) but not the catalog (they are not in it).
    await organizer().get(`/events/${eventId}/inventory`).expect(200);
    await organizer().put(`/events/${eventId}/inventory`).send({ eventName: 'Show', ticketTypes }).expect(200);
    expect(await h.redis.exists(catalogKey)).toBe(0);
    await placeVip().expect(202);
    expect(await h.redis.exists(catalogKey)).toBe(1);
    await organizer().get(`/events/${eventId}/inventory`).expect(200);
    expect(await h.redis.exists(`${h.aws.prefix}${inventoryKey(eventId)}`)).toBe(1);
    await reserve(eventId, 1);
    expect(await h.redis.exists(`${h.aws.prefix}${inventoryKey(eventId)}`)).toBe(0);
    expect(await h.redis.exists(catalogKey)).toBe(1);
  });

  it('refuses an order on the cached catalog only after reading it again', async () => {
    const eventId = uniqueId('show');
    const customer = uniqueId('cust');
    const placeVip = () => placeOne(eventId, customer, 'VIP');
    await organizer()
      .put(`/events/${eventId}/inventory`)
      .send({ eventName: 'Show', ticketTypes: [ticketTypes[0]] })
      .expect(200);
    await placeVip().expect(422);
    // VIP added by a write that does not drop the catalog (the participant's own, not the API's PUT).
    await putEventInventory(h.participantDeps, eventId, 'Show', [
      { ticketType: 'VIP', totalQuantity: 10, priceMinor: 15000, currency: 'EUR' },
    ]);
    await placeVip().expect(202);
  });

  it('409s a total below the seats already held, and changes nothing', async () => {
    const eventId = uniqueId('show');
    await organizer().put(`/events/${eventId}/inventory`).send({ eventName: 'Show', ticketTypes }).expect(200);
    await reserve(eventId, 6);
    const res = await organizer()
      .put(`/events/${eventId}/inventory`)
      .send({ eventName: 'Show', ticketTypes: [{ ...ticketTypes[1], totalQuantity: 5 }] })
      .expect(409);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({
      type: 'https://eventticket.dev/problems/inventory-conflict',
      status: 409,
      ticketType: 'VIP',
    });
    const now = await organizer().get(`/events/${eventId}/inventory`).expect(200);
    expect(now.body.ticketTypes[1]).toMatchObject({ totalQuantity: 10, availableQuantity: 4, takenQuantity: 6 });
    // Reducing to exactly what is held is fine.
    await organizer()
      .put(`/events/${eventId}/inventory`)
      .send({ eventName: 'Show', ticketTypes: [{ ...ticketTypes[1], totalQuantity: 6 }] })
      .expect(200);
  });

  it('404s an unknown event', async () => {
    const res = await organizer()
      .get(`/events/${uniqueId('none')}/inventory`)
      .expect(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body.type).toBe('https://eventticket.dev/problems/not-found');
  });

  const one = ticketTypes[0];
  it.each([
    [
      'negative total',
      { eventName: 'E', ticketTypes: [{ ...one, totalQuantity: -1 }] },
      400,
      ['/ticketTypes/0/totalQuantity'],
    ],
    [
      'fractional total',
      { eventName: 'E', ticketTypes: [{ ...one, totalQuantity: 1.5 }] },
      400,
      ['/ticketTypes/0/totalQuantity'],
    ],
    ['negative price', { eventName: 'E', ticketTypes: [{ ...one, price: -1 }] }, 400, ['/ticketTypes/0/price']],
    ['price as a string', { eventName: 'E', ticketTypes: [{ ...one, price: '10' }] }, 400, ['/ticketTypes/0/price']],
    [
      'lower-case currency',
      { eventName: 'E', ticketTypes: [{ ...one, currency: 'eur' }] },
      400,
      ['/ticketTypes/0/currency'],
    ],
    ['no ticket types', { eventName: 'E', ticketTypes: [] }, 400, ['/ticketTypes']],
    ['unknown field', { eventName: 'E', venue: 'X', ticketTypes: [one] }, 400, ['/venue']],
    ['missing eventName', { ticketTypes: [one] }, 400, ['/eventName']],
    ['duplicate ticketType', { eventName: 'E', ticketTypes: [one, one] }, 422, ['/ticketTypes/1/ticketType']],
  ])('refuses %s and writes nothing', async (_name, body, status, fields) => {
    const eventId = uniqueId('bad');
    const res = await organizer().put(`/events/${eventId}/inventory`).send(body).expect(status);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(fields));
    await organizer().get(`/events/${eventId}/inventory`).expect(404);
  });

  it('refuses a bad event id, malformed JSON and a wrong content type', async () => {
    await organizer().put('/events/bad%20id/inventory').send({ eventName: 'E', ticketTypes }).expect(400);
    await organizer()
      .put(`/events/${uniqueId('e')}/inventory`)
      .set('Content-Type', 'application/json')
      .send('{"eventName":')
      .expect(400);
    await organizer()
      .put(`/events/${uniqueId('e')}/inventory`)
      .set('Content-Type', 'text/csv')
      .send('GA,100')
      .expect(415);
  });
});

describe('health', () => {
  it('is UP with every component up', async () => {
    const res = await request(h.app).get('/actuator/health').expect(200);
    expect(res.body).toEqual({
      status: 'UP',
      components: { dynamodb: { status: 'UP' }, sqs: { status: 'UP' }, redis: { status: 'UP' } },
    });
  });
});
