/**
 * Abuse limits: per principal (by role), per IP for anonymous requests, orders per minute per
 * customer; counted in the real Redis so that two API processes share them; counted per process
 * when Redis is down, never a 500. Over the limit: 429 problem+json, Retry-After, RateLimit headers.
 */
import request from 'supertest';
import { createApp } from '../../src/routes';
import { createHealthCheck } from '../../src/api/health';
import { inventoryPortFrom } from '../../src/api/inventory';
import { createLogger } from '../../src/observability/logger';
import { OrderQueries } from '../../src/store/order-queries';
import { as } from '../support/auth';
import { CLOSED_REDIS_URL, createApiHarness, PROBLEM_JSON, uniqueId, type ApiHarness } from './harness';

const LIMITS = {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2',
  RATE_LIMIT_CUSTOMER_PER_MINUTE: '5',
  RATE_LIMIT_ORDERS_PER_MINUTE: '2',
};

function expect429(res: request.Response): void {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.body.type).toBe('https://eventticket.dev/problems/too-many-requests');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(res.headers.ratelimit).toMatch(/r=0/);
  expect(res.headers['ratelimit-policy']).toMatch(/w=60/);
}

describe('with Redis', () => {
  let h: ApiHarness;
  const eventId = uniqueId('rl');

  beforeAll(async () => {
    h = await createApiHarness({ label: 'apil', env: LIMITS });
    await request(h.app)
      .put(`/events/${eventId}/inventory`)
      .set(as.organizer())
      .send({ eventName: 'Limits', ticketTypes: [{ ticketType: 'GA', totalQuantity: 100, price: 1, currency: 'EUR' }] })
      .expect(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("a customer gets its role's requests per minute, then 429; another customer is not affected", async () => {
    const me = as.customer(uniqueId('c'));
    for (let i = 0; i < 5; i++) {
      const ok = await request(h.app).get('/orders').set(me).expect(200);
      expect(ok.headers.ratelimit).toMatch(new RegExp(`r=${4 - i}`));
    }
    expect429(await request(h.app).get('/orders').set(me));
    await request(h.app)
      .get('/orders')
      .set(as.customer(uniqueId('c')))
      .expect(200);
    // An organizer's limit is its own (default 300, not the customer's 5).
    for (let i = 0; i < 7; i++)
      await request(h.app)
        .get(`/events/${eventId}/inventory`)
        .set(as.organizer(uniqueId('org')))
        .expect(200);
  });

  it('anonymous requests are limited per IP, whatever they ask for', async () => {
    // The anonymous budget is shared by every anonymous request from this IP in this test file.
    let last: request.Response | undefined;
    for (let i = 0; i < 3; i++) last = await request(h.app).get('/actuator/health');
    expect429(last!);
    // A refused token counts as anonymous too.
    expect429(await request(h.app).get('/orders').set('Authorization', 'Bearer x.y.z'));
  });

  it('orders per minute per customer: the third POST /orders in a minute is 429 and writes nothing', async () => {
    const customerId = uniqueId('c');
    const body = { eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' };
    await request(h.app).post('/orders').set(as.customer(customerId)).send(body).expect(202);
    await request(h.app).post('/orders').set(as.customer(customerId)).send(body).expect(202);
    const before = await h.writes();
    expect429(await request(h.app).post('/orders').set(as.customer(customerId)).send(body));
    expect(await h.writes()).toEqual(before);
  });

  it('two API processes share the counters through Redis', async () => {
    const second = createApp({
      runtime: h.runtime,
      store: h.store,
      orders: new OrderQueries(h.aws.clients.doc, h.aws.names.tables),
      inventory: inventoryPortFrom(h.participantDeps),
      cache: h.cache,
      health: createHealthCheck(h.aws.clients, h.redis, h.aws.names),
      logger: createLogger('error'),
      redis: h.redis,
      config: h.config,
    });
    const me = as.customer(uniqueId('c'));
    for (let i = 0; i < 3; i++) await request(h.app).get('/orders').set(me).expect(200);
    for (let i = 0; i < 2; i++) await request(second).get('/orders').set(me).expect(200);
    expect429(await request(second).get('/orders').set(me));
    expect429(await request(h.app).get('/orders').set(me));
  });
});

describe('with Redis down', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness({ label: 'apim', env: LIMITS, redisUrl: CLOSED_REDIS_URL });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('limits per process instead: never a 500', async () => {
    const me = as.customer(uniqueId('c'));
    for (let i = 0; i < 5; i++) await request(h.app).get('/orders').set(me).expect(200);
    expect429(await request(h.app).get('/orders').set(me));
  });
});
