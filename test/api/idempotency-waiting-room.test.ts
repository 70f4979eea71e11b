/**
 * One Idempotency-Key, one order request, at every stage of the waiting room (issue 22, kind 4):
 * queued, admitted but not yet placed, and placed. A different body with the key is 422
 * idempotency-key-reused and changes nothing; the same body replays with Idempotent-Replayed.
 * The API over real Redis, DynamoDB and SQS (test/api/harness.ts); no admitter runs here, so the
 * test moves the queue itself with the waiting room's own operations (admitNext), which leaves an
 * order admitted but not placed for as long as the test needs.
 */
import request from 'supertest';
import { WaitingRoom } from '../../src/admission/waiting-room';
import { createLogger } from '../../src/observability/logger';
import { as } from '../support/auth';
import { createApiHarness, PROBLEM_JSON, uniqueId, type ApiHarness } from './harness';

jest.setTimeout(120_000);

let h: ApiHarness;
let room: WaitingRoom;

beforeAll(async () => {
  h = await createApiHarness({ label: 'idwr' });
  // The same keys as the app's own waiting room (same Redis, same prefix).
  room = new WaitingRoom(h.redis, createLogger('warn'), { keyPrefix: h.aws.prefix, defaultLimit: 0 });
});
afterAll(async () => {
  await h?.close();
});

const order = (eventId: string, customerId: string, quantity: number, paymentToken: string) => ({
  customerId,
  eventId,
  items: [{ ticketType: 'GA', quantity }],
  paymentToken,
});

/** A new event of 100 GA seats at 5 EUR whose waiting room admits one order at a time. */
async function eventWithOnePlace(eventName: string): Promise<string> {
  const eventId = uniqueId('ev');
  await request(h.app)
    .put(`/events/${eventId}/inventory`)
    .set(as.organizer())
    .send({ eventName, ticketTypes: [{ ticketType: 'GA', totalQuantity: 100, price: 5, currency: 'EUR' }] })
    .expect(200);
  await request(h.app).put(`/events/${eventId}/admission`).set(as.organizer()).send({ maxActiveOrders: 1 }).expect(200);
  return eventId;
}

function expectKeyReused(res: request.Response): void {
  expect(res.status).toBe(422);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.body.type).toBe('https://eventticket.dev/problems/idempotency-key-reused');
}

it('a key reused with a different body is 422 while queued, admitted-not-placed and placed; the same body replays', async () => {
  const eventId = await eventWithOnePlace('Queue');

  // The one place is taken.
  const first = await request(h.app)
    .post('/orders')
    .set(as.customer('holder'))
    .send(order(eventId, 'holder', 1, 'tok_visa'))
    .expect(202);
  expect(first.body.status).toBe('PENDING');

  const buyer = uniqueId('buyer');
  const key = uniqueId('key');
  const same = order(eventId, buyer, 1, 'tok_visa');
  const different = order(eventId, buyer, 4, 'tok_declined');
  const post = (body: object) =>
    request(h.app).post('/orders').set(as.customer(buyer)).set('Idempotency-Key', key).send(body);

  // 1. Queued.
  const queued = await post(same).expect(202);
  expect(queued.body).toMatchObject({ status: 'QUEUED', position: 1 });
  expect(queued.headers['idempotent-replayed']).toBeUndefined();
  const orderId = String(queued.body.orderId);
  const before = await h.writes();
  expectKeyReused(await post(different));
  const again = await post(same).expect(202);
  expect(again.body).toMatchObject({ orderId, status: 'QUEUED', position: 1 });
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(await h.writes()).toEqual(before);
  expect(await room.standing(orderId)).toMatchObject({ state: 'waiting', position: 1 });

  // 2. Admitted, not yet placed: the holder's saga ends, the queue moves, nobody has placed it yet.
  await room.ended(eventId, String(first.body.orderId));
  expect((await room.admitNext(eventId)).map((o) => o.orderId)).toEqual([orderId]);
  expectKeyReused(await post(different));
  expect(await h.store.load(orderId)).toBeUndefined();
  expect(await h.writes()).toEqual(before);
  const placedByReplay = await post(same).expect(202);
  expect(placedByReplay.headers['idempotent-replayed']).toBe('true');
  expect(placedByReplay.body).toMatchObject({ orderId, status: 'PENDING' });
  // Placed with the first request's body, whoever placed it.
  const saga = await h.store.load(orderId);
  expect(saga?.items).toEqual([{ ticketType: 'GA', quantity: 1 }]);

  // 3. Placed.
  expectKeyReused(await post(different));
  const replayed = await post(same).expect(202);
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  expect(replayed.body).toMatchObject({ orderId, status: 'PENDING' });
  expect((await h.store.load(orderId))?.items).toEqual([{ ticketType: 'GA', quantity: 1 }]);
});

it('two first requests with one key and different bodies: one is queued, the other is 422', async () => {
  const eventId = await eventWithOnePlace('Race');
  await request(h.app)
    .post('/orders')
    .set(as.customer('holder2'))
    .send(order(eventId, 'holder2', 1, 'tok_visa'))
    .expect(202);
  const buyer = uniqueId('buyer');
  const key = uniqueId('key');
  const answers = await Promise.all(
    [1, 2].map((quantity) =>
      request(h.app)
        .post('/orders')
        .set(as.customer(buyer))
        .set('Idempotency-Key', key)
        .send(order(eventId, buyer, quantity, 'tok_visa')),
    ),
  );
  expect(answers.map((a) => a.status).sort()).toEqual([202, 422]);
});

it('while queued, a replay is answered from the waiting room even when the request no longer validates', async () => {
  const eventId = uniqueId('ev');
  const inventory = (vipCurrency: string) => ({
    eventName: 'Changing',
    ticketTypes: [
      { ticketType: 'GA', totalQuantity: 100, price: 5, currency: 'EUR' },
      { ticketType: 'VIP', totalQuantity: 10, price: 50, currency: vipCurrency },
    ],
  });
  await request(h.app).put(`/events/${eventId}/inventory`).set(as.organizer()).send(inventory('EUR')).expect(200);
  await request(h.app).put(`/events/${eventId}/admission`).set(as.organizer()).send({ maxActiveOrders: 1 }).expect(200);
  await request(h.app)
    .post('/orders')
    .set(as.customer('holder3'))
    .send(order(eventId, 'holder3', 1, 'tok_visa'))
    .expect(202);
  const buyer = uniqueId('buyer');
  const key = uniqueId('key');
  const body = {
    customerId: buyer,
    eventId,
    items: [
      { ticketType: 'GA', quantity: 1 },
      { ticketType: 'VIP', quantity: 1 },
    ],
    paymentToken: 'tok_visa',
  };
  const post = (b: object) =>
    request(h.app).post('/orders').set(as.customer(buyer)).set('Idempotency-Key', key).send(b);
  const queued = await post(body).expect(202);
  expect(queued.body.status).toBe('QUEUED');
  // The organizer reprices VIP in another currency: the same body now mixes currencies.
  await request(h.app).put(`/events/${eventId}/inventory`).set(as.organizer()).send(inventory('USD')).expect(200);
  const again = await post(body).expect(202);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body).toMatchObject({ orderId: queued.body.orderId, status: 'QUEUED', position: 1 });
  // A different body that would be refused anyway is still named for what it is: the key reused.
  expectKeyReused(await post({ ...body, items: [{ ticketType: 'NOPE', quantity: 1 }] }));
});

it('a key whose order was placed before the room filled is not queued again: 422 for a different body, the same body replays', async () => {
  const eventId = uniqueId('ev');
  await request(h.app)
    .put(`/events/${eventId}/inventory`)
    .set(as.organizer())
    .send({ eventName: 'Later', ticketTypes: [{ ticketType: 'GA', totalQuantity: 100, price: 5, currency: 'EUR' }] })
    .expect(200);
  const buyer = uniqueId('buyer');
  const key = uniqueId('key');
  const same = order(eventId, buyer, 1, 'tok_visa');
  const post = (body: object) =>
    request(h.app).post('/orders').set(as.customer(buyer)).set('Idempotency-Key', key).send(body);
  // Placed while the event has no waiting room (or after its saga ended, its place given back).
  const placed = await post(same).expect(202);
  const orderId = String(placed.body.orderId);
  expect(placed.body.status).toBe('PENDING');

  // The room fills: a limit of 1, its place taken by another buyer.
  await request(h.app).put(`/events/${eventId}/admission`).set(as.organizer()).send({ maxActiveOrders: 1 }).expect(200);
  await request(h.app)
    .post('/orders')
    .set(as.customer('holder4'))
    .send(order(eventId, 'holder4', 1, 'tok_visa'))
    .expect(202);

  expectKeyReused(await post(order(eventId, buyer, 4, 'tok_declined')));
  const replayed = await post(same);
  expect(replayed.status).toBe(202);
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  expect(replayed.body).toMatchObject({ orderId, status: 'PENDING' });
  // Nothing waits under the key: the order is the placed one.
  expect(await room.standing(orderId)).toEqual({ state: 'unknown' });
  expect((await h.store.load(orderId))?.items).toEqual([{ ticketType: 'GA', quantity: 1 }]);
});

it('a key whose queued order was cancelled stays used: 422 for a different body, the same body places nothing', async () => {
  const eventId = await eventWithOnePlace('Left');
  const holder = await request(h.app)
    .post('/orders')
    .set(as.customer('holder5'))
    .send(order(eventId, 'holder5', 1, 'tok_visa'))
    .expect(202);
  const buyer = uniqueId('buyer');
  const key = uniqueId('key');
  const same = order(eventId, buyer, 1, 'tok_visa');
  const post = (body: object) =>
    request(h.app).post('/orders').set(as.customer(buyer)).set('Idempotency-Key', key).send(body);
  const queued = await post(same).expect(202);
  const orderId = String(queued.body.orderId);
  await request(h.app).post(`/orders/${orderId}/cancel`).set(as.customer(buyer)).send({}).expect(202);

  expectKeyReused(await post(order(eventId, buyer, 4, 'tok_declined')));
  const again = await post(same);
  expect(again.status).toBe(202);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body).toMatchObject({ orderId, status: 'CANCELLED' });
  // The place frees up: the cancelled order is not queued or placed again under its key.
  await room.ended(eventId, String(holder.body.orderId));
  expect(await room.admitNext(eventId)).toEqual([]);
  expect(await room.standing(orderId)).toEqual({ state: 'unknown' });
  expect(await h.store.load(orderId)).toBeUndefined();
});

it('a key whose queued order was told sold out stays used: 422 for a different body, the same body is 409 sold-out', async () => {
  const eventId = await eventWithOnePlace('Told');
  const holder = await request(h.app)
    .post('/orders')
    .set(as.customer('holder6'))
    .send(order(eventId, 'holder6', 1, 'tok_visa'))
    .expect(202);
  const buyer = uniqueId('buyer');
  const key = uniqueId('key');
  const same = order(eventId, buyer, 1, 'tok_visa');
  const post = (body: object) =>
    request(h.app).post('/orders').set(as.customer(buyer)).set('Idempotency-Key', key).send(body);
  const orderId = String((await post(same).expect(202)).body.orderId);
  // The admitter's step when the buyer's turn comes after a sell-out (src/admission/admitter.ts).
  await room.ended(eventId, String(holder.body.orderId));
  expect((await room.admitNext(eventId)).map((o) => o.orderId)).toEqual([orderId]);
  await room.toldSoldOut(eventId, orderId);

  // Seats came back (or the flag lags): the key still names the order that was told sold out.
  expectKeyReused(await post(order(eventId, buyer, 2, 'tok_visa')));
  const again = await post(same);
  expect(again.status).toBe(409);
  expect(again.body.type).toBe('https://eventticket.dev/problems/sold-out');
  expect(await room.standing(orderId)).toEqual({ state: 'sold-out' });
  expect(await h.store.load(orderId)).toBeUndefined();
});

it('the key of a queued order that was cancelled stays used after the event drops its waiting room', async () => {
  const eventId = await eventWithOnePlace('Dropped');
  await request(h.app)
    .post('/orders')
    .set(as.customer('holder7'))
    .send(order(eventId, 'holder7', 1, 'tok_visa'))
    .expect(202);
  const buyer = uniqueId('buyer');
  const key = uniqueId('key');
  const same = order(eventId, buyer, 1, 'tok_visa');
  const post = (body: object) =>
    request(h.app).post('/orders').set(as.customer(buyer)).set('Idempotency-Key', key).send(body);
  const orderId = String((await post(same).expect(202)).body.orderId);
  await request(h.app).post(`/orders/${orderId}/cancel`).set(as.customer(buyer)).send({}).expect(202);
  // No waiting room any more: orders start their saga at once.
  await request(h.app).put(`/events/${eventId}/admission`).set(as.organizer()).send({ maxActiveOrders: 0 }).expect(200);

  expectKeyReused(await post(order(eventId, buyer, 4, 'tok_declined')));
  const again = await post(same);
  expect(again.status).toBe(202);
  expect(again.body).toMatchObject({ orderId, status: 'CANCELLED' });
  expect(await h.store.load(orderId)).toBeUndefined();
});

it('the admitter admits nobody while the limit cannot be read (the queue is not emptied into the sagas)', async () => {
  const eventId = await eventWithOnePlace('Unread');
  for (const buyer of ['holder8', 'w1', 'w2', 'w3'].map((b) => `${b}-${eventId}`))
    await request(h.app)
      .post('/orders')
      .set(as.customer(buyer))
      .send(order(eventId, buyer, 1, 'tok_visa'))
      .expect(202);
  // A real Redis error on the limit's key (here WRONGTYPE; a timeout under load does the same).
  const limitKey = `${h.aws.prefix}wr:{${eventId}}:limit`;
  expect(await h.redis.get(limitKey)).toBe('1');
  await h.redis.del(limitKey);
  await h.redis.hset(limitKey, 'broken', '1');
  const admitted = await room.admitNext(eventId).catch(() => []);
  expect(admitted).toEqual([]);
  expect(await room.active(eventId)).toHaveLength(1);
});
