/** /orders and /sagas against the real emulator and Redis (no workers: sagas stay where the API leaves them). */
import request from 'supertest';
import { applyEvent } from '../../machines/order-saga';
import { orderView } from '../../src/api/views';
import { as } from '../support/auth';
import { createApiHarness, PROBLEM_JSON, uniqueId, type ApiHarness } from './harness';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let h: ApiHarness;
const eventId = uniqueId('concert');
const otherEventId = uniqueId('festival');

/** The customer most requests here come from (orders are placed for the token's sub). */
const CUSTOMER = uniqueId('cust');

/** A supertest agent sending these headers (a customer's token by default) with every request. */
function api(headers: Record<string, string> = as.customer(CUSTOMER)) {
  return request.agent(h.app).set(headers);
}

function order(overrides: Record<string, unknown> = {}) {
  return {
    customerId: CUSTOMER,
    eventId,
    items: [{ ticketType: 'GA', quantity: 2 }],
    paymentToken: 'tok_visa',
    ...overrides,
  };
}

beforeAll(async () => {
  h = await createApiHarness({ label: 'apio' });
  await api(as.organizer())
    .put(`/events/${eventId}/inventory`)
    .send({
      eventName: 'Concert',
      ticketTypes: [
        { ticketType: 'GA', totalQuantity: 100, price: 50, currency: 'EUR' },
        { ticketType: 'VIP', totalQuantity: 10, price: 150, currency: 'EUR' },
        { ticketType: 'US-GA', totalQuantity: 10, price: 40, currency: 'USD' },
      ],
    })
    .expect(200);
  await api(as.organizer())
    .put(`/events/${otherEventId}/inventory`)
    .send({ eventName: 'Festival', ticketTypes: [{ ticketType: 'DAY', totalQuantity: 5, price: 20, currency: 'EUR' }] })
    .expect(200);
});

afterAll(async () => {
  await h?.close();
});

describe('POST /orders', () => {
  it('accepts an order: 202, saga v1 in reserving, ReserveSeats sent, readable at once', async () => {
    const before = await h.writes();
    const body = order({
      items: [
        { ticketType: 'GA', quantity: 2 },
        { ticketType: 'VIP', quantity: 1 },
      ],
    });
    const res = await api().post('/orders').set('X-Correlation-Id', 'test-corr-0001').send(body).expect(202);

    expect(res.headers['x-correlation-id']).toBe('test-corr-0001');
    const { orderId } = res.body;
    expect(orderId).toMatch(UUID);
    expect(res.headers.location).toBe(`/orders/${orderId}`);
    expect(res.body).toEqual({
      orderId,
      orderNumber: expect.stringMatching(/^ET-\d{4}-\d{6,}$/),
      eventName: expect.any(String),
      status: 'PENDING',
      sagaState: 'reserving',
      links: { self: `/orders/${orderId}`, saga: `/sagas/${orderId}`, cancel: `/orders/${orderId}/cancel` },
    });

    const stored = await h.store.load(orderId);
    expect(stored).toMatchObject({
      sagaVersion: 1,
      sagaState: 'reserving',
      status: 'PENDING',
      correlationId: 'test-corr-0001',
    });
    expect(await h.writes()).toEqual({
      orders: before.orders + 1,
      events: before.events + 1,
      reserveMessages: before.reserveMessages + 1,
    });

    const got = await api().get(`/orders/${orderId}`).expect(200);
    expect(got.body).toMatchObject({
      orderId,
      customerId: body.customerId,
      eventId,
      items: body.items,
      status: 'PENDING',
      totalAmount: null,
      currency: null,
      sagaState: 'reserving',
    });
    expect(typeof got.body.createdAt).toBe('string');
    expect(typeof got.body.updatedAt).toBe('string');
    expect(got.body).not.toHaveProperty('paymentToken');

    const saga = await api(as.operator()).get(`/sagas/${orderId}`).expect(200);
    expect(saga.body).toMatchObject({
      orderId,
      state: 'reserving',
      status: 'PENDING',
      version: 1,
      machineVersion: '2',
    });
    expect(saga.body.context.paymentToken).toBe('[redacted]');
    expect(saga.body.outbox).toEqual([
      expect.objectContaining({ kind: 'ReserveSeats', commandId: `${orderId}:ReserveSeats`, eventId }),
    ]);
    expect(saga.body.history).toHaveLength(1);
    expect(saga.body.history[0]).toMatchObject({
      version: 1,
      eventType: 'ORDER_PLACED',
      toState: 'reserving',
      correlationId: 'test-corr-0001',
    });
    expect(typeof saga.body.stateEnteredAt).toBe('string');
  });

  it('gives a request without a usable X-Correlation-Id a fresh one', async () => {
    const res = await api().post('/orders').set('X-Correlation-Id', 'bad id with spaces').send(order()).expect(202);
    const correlationId = res.headers['x-correlation-id'];
    expect(correlationId).toMatch(UUID);
    expect((await h.store.load(res.body.orderId))?.correlationId).toBe(correlationId);
  });

  it('replays an Idempotency-Key: same orderId, one order written', async () => {
    const body = order();
    const key = uniqueId('key');
    const before = await h.writes();
    const first = await api().post('/orders').set('Idempotency-Key', key).send(body).expect(202);
    // Same order, items listed in another order of keys: the same request.
    const again = await api()
      .post('/orders')
      .set('Idempotency-Key', key)
      .send({ paymentToken: body.paymentToken, items: body.items, eventId: body.eventId, customerId: body.customerId })
      .expect(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await h.writes()).toEqual({
      orders: before.orders + 1,
      events: before.events + 1,
      reserveMessages: before.reserveMessages + 1,
    });

    // The same key from another customer is another order.
    const otherCustomer = uniqueId('cust');
    const other = await api(as.customer(otherCustomer))
      .post('/orders')
      .set('Idempotency-Key', key)
      .send(order({ customerId: otherCustomer }))
      .expect(202);
    expect(other.body.orderId).not.toBe(first.body.orderId);
  });

  it('refuses the same Idempotency-Key with a different body (422) and writes nothing', async () => {
    const body = order();
    const key = uniqueId('key');
    const first = await api().post('/orders').set('Idempotency-Key', key).send(body).expect(202);
    const before = await h.writes();
    const res = await api()
      .post('/orders')
      .set('Idempotency-Key', key)
      .send({ ...body, items: [{ ticketType: 'GA', quantity: 3 }] })
      .expect(422);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ type: 'https://eventticket.dev/problems/idempotency-key-reused', status: 422 });
    expect(await h.writes()).toEqual(before);
    expect((await h.store.load(first.body.orderId))?.items).toEqual(body.items);
  });

  const huge = JSON.stringify(order({ paymentToken: 'x'.repeat(5000) }));
  type BadCase = {
    name: string;
    body?: unknown;
    raw?: string;
    contentType?: string;
    headers?: Record<string, string>;
    query?: string;
    status: number;
    type: string;
    fields?: string[];
  };
  const bad: BadCase[] = [
    { name: 'malformed JSON', raw: '{"customerId": "c1", ', status: 400, type: 'malformed-json' },
    { name: 'a JSON string, not an object', raw: '"hello"', status: 400, type: 'malformed-json' },
    { name: 'an array', body: [order()], status: 400, type: 'validation', fields: [''] },
    { name: 'no body', status: 400, type: 'validation', fields: [''] },
    {
      name: 'empty object',
      body: {},
      status: 400,
      type: 'validation',
      fields: ['/eventId', '/items', '/paymentToken'],
    },
    {
      name: 'missing paymentToken',
      body: { ...order(), paymentToken: undefined },
      status: 400,
      type: 'validation',
      fields: ['/paymentToken'],
    },
    {
      name: 'quantity as a string',
      body: order({ items: [{ ticketType: 'GA', quantity: '2' }] }),
      status: 400,
      type: 'validation',
      fields: ['/items/0/quantity'],
    },
    {
      name: 'quantity 0',
      body: order({ items: [{ ticketType: 'GA', quantity: 0 }] }),
      status: 400,
      type: 'validation',
      fields: ['/items/0/quantity'],
    },
    {
      name: 'quantity -1',
      body: order({ items: [{ ticketType: 'GA', quantity: -1 }] }),
      status: 400,
      type: 'validation',
      fields: ['/items/0/quantity'],
    },
    {
      name: 'quantity 1.5',
      body: order({ items: [{ ticketType: 'GA', quantity: 1.5 }] }),
      status: 400,
      type: 'validation',
      fields: ['/items/0/quantity'],
    },
    { name: 'no items', body: order({ items: [] }), status: 400, type: 'validation', fields: ['/items'] },
    {
      name: 'customerId a number',
      body: order({ customerId: 42 }),
      status: 400,
      type: 'validation',
      fields: ['/customerId'],
    },
    {
      name: 'customerId with a newline',
      body: order({ customerId: 'a\nb' }),
      status: 400,
      type: 'validation',
      fields: ['/customerId'],
    },
    {
      name: 'unknown top-level field',
      body: order({ discount: 10 }),
      status: 400,
      type: 'validation',
      fields: ['/discount'],
    },
    {
      name: 'unknown item field',
      body: order({ items: [{ ticketType: 'GA', quantity: 1, seat: 'A1' }] }),
      status: 400,
      type: 'validation',
      fields: ['/items/0/seat'],
    },
    {
      name: '__proto__ field',
      raw: '{"__proto__":{"x":1},' + JSON.stringify(order()).slice(1),
      status: 400,
      type: 'validation',
      fields: ['/__proto__'],
    },
    {
      name: 'unknown query parameter',
      body: order(),
      query: '?dryRun=true',
      status: 400,
      type: 'validation',
      fields: ['/dryRun'],
    },
    { name: 'body over maxBodyBytes', raw: huge, status: 413, type: 'body-too-large' },
    {
      name: 'text/plain',
      raw: JSON.stringify(order()),
      contentType: 'text/plain',
      status: 415,
      type: 'unsupported-media-type',
    },
    {
      name: 'form-encoded',
      raw: 'customerId=c1',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      type: 'unsupported-media-type',
    },
    {
      name: 'Idempotency-Key too long',
      body: order(),
      headers: { 'Idempotency-Key': 'k'.repeat(129) },
      status: 400,
      type: 'invalid-header',
      fields: ['Idempotency-Key'],
    },
    {
      name: 'duplicate ticketType',
      body: order({
        items: [
          { ticketType: 'GA', quantity: 1 },
          { ticketType: 'GA', quantity: 2 },
        ],
      }),
      status: 422,
      type: 'unprocessable-order',
      fields: ['/items/1/ticketType'],
    },
    {
      name: 'unknown event',
      body: order({ eventId: uniqueId('nope') }),
      status: 422,
      type: 'unknown-event',
      fields: ['/eventId'],
    },
    {
      name: 'unknown ticketType',
      body: order({
        items: [
          { ticketType: 'GA', quantity: 1 },
          { ticketType: 'BALCONY', quantity: 1 },
        ],
      }),
      status: 422,
      type: 'unprocessable-order',
      fields: ['/items/1/ticketType'],
    },
    {
      name: 'ticketType of another event',
      body: order({ items: [{ ticketType: 'DAY', quantity: 1 }] }),
      status: 422,
      type: 'unprocessable-order',
      fields: ['/items/0/ticketType'],
    },
    {
      name: 'mixed currencies',
      body: order({
        items: [
          { ticketType: 'GA', quantity: 1 },
          { ticketType: 'US-GA', quantity: 1 },
        ],
      }),
      status: 422,
      type: 'unprocessable-order',
      fields: ['/items'],
    },
  ];

  it.each(bad)('refuses $name with $status problem+json and writes nothing', async (c) => {
    const before = await h.writes();
    let req = api().post(`/orders${c.query ?? ''}`);
    for (const [name, value] of Object.entries(c.headers ?? {})) req = req.set(name, value);
    let res;
    if (c.raw !== undefined) {
      res = await req.set('Content-Type', c.contentType ?? 'application/json').send(c.raw);
    } else if (c.body !== undefined) {
      res = await req.send(c.body as object);
    } else {
      res = await req;
    }
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ type: `https://eventticket.dev/problems/${c.type}`, status: c.status });
    expect(typeof res.body.title).toBe('string');
    expect(typeof res.body.detail).toBe('string');
    expect(res.body.correlationId).toBe(res.headers['x-correlation-id']);
    if (c.fields)
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(c.fields));
    expect(await h.writes()).toEqual(before);
  });
});

describe('GET /orders/:orderId', () => {
  it('404s an unknown order', async () => {
    const res = await api().get('/orders/2f1d7c1e-0b7a-4c55-9a55-1f3e1c2b9d00').expect(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body.type).toBe('https://eventticket.dev/problems/not-found');
  });

  it('a poll after a committed step shows that step, also while the order item lags it (a worker died between the two)', async () => {
    const { orderId } = (await api().post('/orders').send(order()).expect(202)).body;
    const placed = (await api().get(`/orders/${orderId}`).expect(200)).body;
    expect(placed).toMatchObject({ status: 'PENDING', sagaState: 'reserving', totalAmount: null });
    // Read over the item its POST kept: what the exact load shows.
    expect(placed).toEqual(JSON.parse(JSON.stringify(orderView((await h.store.load(orderId))!))));
    const saga = (await h.store.load(orderId))!;
    const reserved = {
      type: 'SEATS_RESERVED',
      reservationId: orderId,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      amountMinor: 10_000,
      currency: 'EUR',
    } as const;
    // Committed, not projected: the Events row is the commit (docs/data-model.md, "The projection").
    const committed = await h.store.append(
      saga,
      applyEvent(saga.saga, reserved),
      { eventId: `${orderId}:SEATS_RESERVED`, eventType: 'SEATS_RESERVED', payload: {} },
      new Date().toISOString(),
    );
    expect((await h.store.loadProjection(orderId))?.sagaVersion).toBe(1);
    const polled = (await api().get(`/orders/${orderId}`).expect(200)).body;
    expect(polled).toEqual({
      ...placed,
      status: 'PROCESSING',
      sagaState: 'awaitingPayment',
      totalAmount: 100,
      currency: 'EUR',
      updatedAt: committed.updatedAt,
    });
    // The operator's read of the same order, on the same process, says the same.
    expect((await api(as.operator()).get(`/orders/${orderId}`).expect(200)).body).toEqual(polled);
  });

  it("another customer's order is 404, worded as an unknown one's, also once its owner's polls are served from the kept item", async () => {
    const { orderId } = (await api().post('/orders').send(order()).expect(202)).body;
    await api().get(`/orders/${orderId}`).expect(200);
    const stranger = await api(as.customer(uniqueId('stranger')))
      .get(`/orders/${orderId}`)
      .expect(404);
    const unknown = await api().get('/orders/2f1d7c1e-0b7a-4c55-9a55-1f3e1c2b9d01').expect(404);
    expect(stranger.body).toMatchObject({
      type: unknown.body.type,
      title: unknown.body.title,
      detail: `order ${orderId} does not exist`,
    });
    expect(JSON.stringify(stranger.body)).not.toContain(CUSTOMER);
  });

  it.each(['not-a-uuid', '1234', "x' OR 1=1"])('400s a garbage id %p', async (id) => {
    const res = await api()
      .get(`/orders/${encodeURIComponent(id)}`)
      .expect(400);
    expect(res.body).toMatchObject({
      type: 'https://eventticket.dev/problems/validation',
      errors: [{ field: 'orderId' }],
    });
  });
});

describe('GET /orders?customerId', () => {
  it("lists a customer's orders newest first, paged by an opaque cursor", async () => {
    const customerId = uniqueId('lister');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await api(as.customer(customerId)).post('/orders').send(order({ customerId })).expect(202)).body.orderId,
      );
      await new Promise((r) => setTimeout(r, 5)); // distinct createdAt
    }
    const first = await api(as.customer(customerId)).get('/orders').query({ customerId, limit: 2 }).expect(200);
    expect(first.body.items.map((o: { orderId: string }) => o.orderId)).toEqual([ids[2], ids[1]]);
    expect(first.body.items[0]).toMatchObject({
      customerId,
      eventId,
      status: 'PENDING',
      sagaState: 'reserving',
      items: [{ ticketType: 'GA', quantity: 2 }],
    });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    // Without customerId a customer lists its own.
    const second = await api(as.customer(customerId))
      .get('/orders')
      .query({ limit: 2, cursor: first.body.nextCursor })
      .expect(200);
    expect(second.body.items.map((o: { orderId: string }) => o.orderId)).toEqual([ids[0]]);

    // A cursor is tied to its listing.
    const foreign = await api(as.operator())
      .get('/orders')
      .query({ customerId: uniqueId('other'), cursor: first.body.nextCursor })
      .expect(400);
    expect(foreign.body.type).toBe('https://eventticket.dev/problems/invalid-cursor');
  });

  it.each([
    ['no customerId (an operator must name one)', {}],
    ['limit 0', { customerId: 'c1', limit: 0 }],
    ['limit 101', { customerId: 'c1', limit: 101 }],
    ['limit abc', { customerId: 'c1', limit: 'abc' }],
    ['garbage cursor', { customerId: 'c1', cursor: 'bm90LWpzb24' }],
    ['unknown parameter', { customerId: 'c1', sort: 'asc' }],
    ['customerId twice', 'customerId=a&customerId=b'],
  ])('400s %s', async (_name, query) => {
    const res = await api(as.operator()).get('/orders').query(query).expect(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });
});

describe('GET /sagas?status', () => {
  it('lists sagas by order status', async () => {
    const placed = await api().post('/orders').send(order()).expect(202);
    const res = await api(as.operator()).get('/sagas').query({ status: 'PENDING', limit: 100 }).expect(200);
    const found = res.body.items.find((s: { orderId: string }) => s.orderId === placed.body.orderId);
    expect(found).toMatchObject({ status: 'PENDING', sagaState: 'reserving', sagaVersion: 1, eventId });
    await api(as.operator()).get('/sagas').query({ status: 'DONE' }).expect(400);
    await api(as.operator()).get('/sagas').expect(400);
  });

  it('404s an unknown saga and 400s a garbage id', async () => {
    await api().get('/sagas/2f1d7c1e-0b7a-4c55-9a55-1f3e1c2b9d00').expect(404);
    await api().get('/sagas/garbage').expect(400);
  });
});

describe('POST /orders/:orderId/cancel', () => {
  it('records a cancel while seats are being reserved (202), and a second cancel is the same (202)', async () => {
    const placed = await api().post('/orders').send(order()).expect(202);
    const { orderId } = placed.body;
    const first = await api().post(`/orders/${orderId}/cancel`).send({ reason: 'changed my mind' }).expect(202);
    expect(first.body).toMatchObject({ orderId, status: 'PENDING', sagaState: 'reserving', cancelRequested: true });
    const stored = await h.store.load(orderId);
    expect(stored?.sagaVersion).toBe(2);
    expect(stored?.saga.context.cancelRequested).toEqual({
      by: `customer:${stored?.customerId}`,
      reason: 'changed my mind',
    });

    const again = await api().post(`/orders/${orderId}/cancel`).expect(202);
    expect(again.body).toMatchObject({ orderId, sagaState: 'reserving' });
    expect((await h.store.load(orderId))?.sagaVersion).toBe(2);
    const history = (await api().get(`/sagas/${orderId}`).expect(200)).body.history;
    expect(history.map((e: { eventType: string }) => e.eventType)).toEqual(['ORDER_PLACED', 'CANCEL_REQUESTED']);
    expect(history[1].actor).toBe(`customer:${stored?.customerId}`);
  });

  it('cancels an order waiting for payment: it starts releasing seats', async () => {
    const { orderId } = (await api().post('/orders').send(order()).expect(202)).body;
    await h.runtime.deliver(orderId, `${orderId}:SEATS_RESERVED`, {
      type: 'SEATS_RESERVED',
      reservationId: orderId,
      expiresAt: new Date(Date.now() + 60000).toISOString(),
      amountMinor: 10000,
      currency: 'EUR',
    });
    const res = await api().post(`/orders/${orderId}/cancel`).send({}).expect(202);
    expect(res.body).toMatchObject({ status: 'PROCESSING', sagaState: 'releasingSeats' });
    await api().post(`/orders/${orderId}/cancel`).expect(202);
  });

  it('409s a cancel that comes too late, with the current state', async () => {
    const { orderId } = (await api().post('/orders').send(order()).expect(202)).body;
    await h.runtime.deliver(orderId, `${orderId}:SEATS_UNAVAILABLE`, { type: 'SEATS_UNAVAILABLE', reason: 'sold out' });
    const res = await api().post(`/orders/${orderId}/cancel`).expect(409);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({
      type: 'https://eventticket.dev/problems/too-late-to-cancel',
      status: 409,
      sagaState: 'failed',
      orderStatus: 'FAILED',
    });
  });

  it('404s an unknown order, 400s a bad body and writes nothing', async () => {
    await api().post('/orders/2f1d7c1e-0b7a-4c55-9a55-1f3e1c2b9d00/cancel').expect(404);
    const { orderId } = (await api().post('/orders').send(order()).expect(202)).body;
    const res = await api().post(`/orders/${orderId}/cancel`).send({ reason: 'x', refund: 'double' }).expect(400);
    expect(res.body.errors).toEqual([{ field: '/refund', message: 'is not allowed' }]);
    await api().post(`/orders/${orderId}/cancel`).set('Content-Type', 'text/plain').send('please').expect(415);
    expect((await h.store.load(orderId))?.sagaVersion).toBe(1);
  });
});

describe('the rest', () => {
  it('serves the machine definition', async () => {
    const res = await api(as.operator()).get('/machines/order-saga').expect(200);
    expect(res.body).toMatchObject({ id: 'order-saga', version: '2' });
    expect(Object.keys(res.body.definition.states)).toEqual(
      expect.arrayContaining([
        'reserving',
        'awaitingPayment',
        'confirming',
        'notifying',
        'completed',
        'releasingSeats',
        'settlingPayment',
        'refunding',
        'cancelled',
        'failed',
      ]),
    );
  });

  it('lists the machine versions this build runs, with each one’s definition and declared changes', async () => {
    const res = await api(as.operator()).get('/machines/order-saga/versions').expect(200);
    expect(res.body.startVersion).toBe('2');
    expect(res.body.versions.map((v: { version: string }) => v.version)).toEqual(['2', '3']);
    expect(res.body.versions[1]).toMatchObject({ released: true, changes: [{ id: 'hold-reminder-scheduled' }] });
    const v3 = await api(as.operator()).get('/machines/order-saga/versions/3').expect(200);
    expect(v3.body.definition.states.awaitingPayment.on).toHaveProperty('HOLD_REMINDER_DUE');
    const unknown = await api(as.operator()).get('/machines/order-saga/versions/9').expect(404);
    expect(unknown.headers['content-type']).toMatch(PROBLEM_JSON);
    await api(as.operator()).post('/machines/order-saga/versions').expect(405);
  });

  it('404s unknown routes and 405s wrong methods, as problems', async () => {
    const missing = await api().get('/nope').expect(404);
    expect(missing.headers['content-type']).toMatch(PROBLEM_JSON);
    const wrong = await api().delete('/orders').expect(405);
    expect(wrong.headers.allow).toBe('GET, POST');
    expect(wrong.body.type).toBe('https://eventticket.dev/problems/method-not-allowed');
  });
});
