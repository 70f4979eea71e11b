/**
 * The three kinds of hostile input found by trying the running service, each fixed as a kind and
 * pinned here with the instance and a second one:
 * 1. ill-formed Unicode anywhere: 400 before anything is written, and the customer's cancel still
 *    applies afterwards; a storage fault is never retried as a lost race;
 * 2. errors raised with a 4xx status by Express / body-parser stay that 4xx (problem+json);
 * 3. a repeated single-value header: 400, nothing recorded.
 * Real emulator, real Redis, real tokens.
 */
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { putEventInventory, getEventInventory } from '../../src/participants';
import { as } from '../support/auth';
import { createApiHarness, PROBLEM_JSON, uniqueId, type ApiHarness } from './harness';

let h: ApiHarness;
const eventId = uniqueId('hostile');
const CUSTOMER = uniqueId('cust');

beforeAll(async () => {
  h = await createApiHarness({ label: 'apih' });
  await request(h.app)
    .put(`/events/${eventId}/inventory`)
    .set(as.organizer())
    .send({
      eventName: 'Hostile night',
      ticketTypes: [{ ticketType: 'GA', totalQuantity: 100, price: 10, currency: 'EUR' }],
    })
    .expect(200);
});

afterAll(async () => {
  await h?.close();
});

async function placeOrder(customerId = CUSTOMER): Promise<string> {
  const res = await request(h.app)
    .post('/orders')
    .set(as.customer(customerId))
    .send({ eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' })
    .expect(202);
  return res.body.orderId as string;
}

function expectProblem(res: request.Response, status: number, type?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.body.status).toBe(status);
  if (type) expect(res.body.type).toBe(`https://eventticket.dev/problems/${type}`);
}

describe('kind 1: ill-formed Unicode', () => {
  it("the issue's case: a cancel whose reason is a lone surrogate is 400 and writes nothing; the customer's cancel then applies", async () => {
    const orderId = await placeOrder();
    const before = await h.writes();
    const res = await request(h.app)
      .post(`/orders/${orderId}/cancel`)
      .set(as.customer(CUSTOMER))
      .set('Content-Type', 'application/json')
      .send('{"reason":"\\ud800"}');
    expectProblem(res, 400, 'validation');
    expect(res.body.errors).toEqual([{ field: '/reason', message: 'is not well-formed Unicode (lone surrogate)' }]);
    // Again: the same answer, still nothing written.
    const again = await request(h.app)
      .post(`/orders/${orderId}/cancel`)
      .set(as.customer(CUSTOMER))
      .set('Content-Type', 'application/json')
      .send('{"reason":"\\ud800"}');
    expectProblem(again, 400, 'validation');
    expect(await h.writes()).toEqual(before);
    expect((await h.store.load(orderId))?.sagaVersion).toBe(1);

    const cancel = await request(h.app)
      .post(`/orders/${orderId}/cancel`)
      .set(as.customer(CUSTOMER))
      .send({ reason: 'changed my mind' })
      .expect(202);
    expect(cancel.body).toMatchObject({ orderId, cancelRequested: true });
    const stored = await h.store.load(orderId);
    expect(stored?.saga.context.cancelRequested).toEqual({ by: `customer:${CUSTOMER}`, reason: 'changed my mind' });
  });

  it('second instance: an inventory PUT with a lone low surrogate in a stored name, or in an object key, is 400 and stores nothing', async () => {
    const fresh = uniqueId('ev');
    const bodies = [
      '{"eventName":"Gala \\udc00","ticketTypes":[{"ticketType":"GA","totalQuantity":1,"price":1,"currency":"EUR"}]}',
      '{"eventName":"Gala","ticketTypes":[{"ticketType":"\\ud83d","totalQuantity":1,"price":1,"currency":"EUR"}]}',
      '{"eventName":"Gala","\\ud800x":1,"ticketTypes":[{"ticketType":"GA","totalQuantity":1,"price":1,"currency":"EUR"}]}',
    ];
    for (const body of bodies) {
      const res = await request(h.app)
        .put(`/events/${fresh}/inventory`)
        .set(as.organizer())
        .set('Content-Type', 'application/json')
        .send(body);
      expectProblem(res, 400, 'validation');
    }
    expect(await getEventInventory(h.participantDeps, fresh)).toBeNull();
    // A well-formed pair (an emoji) is fine.
    await request(h.app)
      .put(`/events/${fresh}/inventory`)
      .set(as.organizer())
      .send({
        eventName: 'Gala \ud83c\udf89',
        ticketTypes: [{ ticketType: 'GA', totalQuantity: 1, price: 1, currency: 'EUR' }],
      })
      .expect(200);
  });

  it('path segments that are not percent-encoded UTF-8 are 400', async () => {
    for (const path of ['/orders/%ED%A0%80', '/sagas/%C0%AF', '/events/%FF/inventory']) {
      const res = await request(h.app).get(path).set(as.operator());
      expectProblem(res, 400);
    }
  });

  it('a storage fault is not retried as a lost race: the inventory admin gives up at once on a value DynamoDB cannot store', async () => {
    let backoffs = 0;
    const deps = { ...h.participantDeps, sleep: async () => void backoffs++ };
    const fresh = uniqueId('ev');
    // An item over DynamoDB's 400 KB limit: every engine refuses it (engines differ on lone
    // surrogates, which DynamoDB Local stores), and no retry can make it fit.
    const tooBig = 'x'.repeat(410 * 1024);
    await expect(
      putEventInventory(deps, fresh, tooBig, [
        { ticketType: 'GA', totalQuantity: 1, priceMinor: 100, currency: 'EUR' },
      ]),
    ).rejects.toThrow();
    expect(backoffs).toBe(0);
    expect(await getEventInventory(h.participantDeps, fresh)).toBeNull();
  });
});

describe('kind 2: client errors stay client errors', () => {
  it("the issue's cases: GET /orders/%zz and a truncated gzip body are 400 problem+json", async () => {
    expectProblem(await request(h.app).get('/orders/%zz').set(as.customer(CUSTOMER)), 400);
    const before = await h.writes();
    const gz = gzipSync(
      JSON.stringify({ eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' }),
    );
    const res = await request(h.app)
      .post('/orders')
      .set(as.customer(CUSTOMER))
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(gz.subarray(0, gz.length - 8));
    expectProblem(res, 400);
    expect(await h.writes()).toEqual(before);
  });

  it('second instance: a deflate body that is not deflate, and a truncated escape in an ops path, are 400', async () => {
    const orderId = await placeOrder();
    const res = await request(h.app)
      .post(`/orders/${orderId}/cancel`)
      .set(as.customer(CUSTOMER))
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'deflate')
      .send(Buffer.from('this is not deflate at all'));
    expectProblem(res, 400);
    expect((await h.store.load(orderId))?.sagaVersion).toBe(1);
    expectProblem(await request(h.app).post('/ops/sagas/%E0%A4%A/retry').set(as.repair()).send({ reason: 'x' }), 400);
  });
});

describe('kind 3: repeated single-value headers', () => {
  it("the issue's case: two X-Operator-Id lines on a compensate are 400 and nothing is recorded", async () => {
    const orderId = await placeOrder();
    const before = await h.writes();
    const res = await request(h.app)
      .post(`/ops/sagas/${orderId}/compensate`)
      .set(as.repair('ann'))
      .set('X-Operator-Id', ['ann', 'bob'] as unknown as string)
      .send({ reason: 'fraud' });
    expectProblem(res, 400, 'invalid-header');
    expect(res.body.errors).toEqual([{ field: 'x-operator-id', message: 'must appear once' }]);
    expect(await h.writes()).toEqual(before);
    expect((await h.store.load(orderId))?.sagaVersion).toBe(1);
  });

  it('second instance: two Idempotency-Key lines, or two Authorization lines, are 400 and write nothing', async () => {
    const before = await h.writes();
    const body = { eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' };
    const keys = await request(h.app)
      .post('/orders')
      .set(as.customer(CUSTOMER))
      .set('Idempotency-Key', ['k-1', 'k-2'] as unknown as string)
      .send(body);
    expectProblem(keys, 400, 'invalid-header');
    // Node keeps only the first Authorization line: the second identity must not be silently dropped.
    const auth = await request(h.app)
      .post('/orders')
      .set('Authorization', [
        as.customer(CUSTOMER).Authorization,
        as.customer('someone-else').Authorization,
      ] as unknown as string)
      .send(body);
    expectProblem(auth, 400, 'invalid-header');
    expect(await h.writes()).toEqual(before);
  });

  it("the operator recorded is the token's sub, whatever X-Operator-Id says", async () => {
    const orderId = await placeOrder();
    await request(h.app)
      .post(`/ops/sagas/${orderId}/compensate`)
      .set(as.repair('ann'))
      .set('X-Operator-Id', 'mallory')
      .send({ reason: 'event cancelled' })
      .expect(202);
    const history = await h.store.history(orderId);
    expect(history.at(-1)).toMatchObject({ actor: 'operator:ann' });
  });
});
