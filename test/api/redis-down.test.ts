/** With Redis unreachable every endpoint still works, without the cache; health says DEGRADED. */
import request from 'supertest';
import { createApp } from '../../src/routes';
import { createHealthCheck } from '../../src/api/health';
import { inventoryPortFrom } from '../../src/api/inventory';
import { createLogger } from '../../src/observability/logger';
import { resourceNames } from '../../src/infra/resources';
import { OrderQueries } from '../../src/store/order-queries';
import { as } from '../support/auth';
import { CLOSED_REDIS_URL, createApiHarness, uniqueId, type ApiHarness } from './harness';

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness({ label: 'apir', redisUrl: CLOSED_REDIS_URL });
});

afterAll(async () => {
  await h?.close();
});

it('serves inventory and orders without Redis, quickly', async () => {
  const eventId = uniqueId('gig');
  await request(h.app)
    .put(`/events/${eventId}/inventory`)
    .set(as.organizer())
    .send({ eventName: 'Gig', ticketTypes: [{ ticketType: 'GA', totalQuantity: 50, price: 30, currency: 'EUR' }] })
    .expect(200);
  for (let i = 0; i < 2; i++) {
    const started = Date.now();
    const res = await request(h.app).get(`/events/${eventId}/inventory`).set(as.organizer()).expect(200);
    expect(res.headers['x-cache']).toBe('BYPASS');
    expect(res.body.ticketTypes[0]).toMatchObject({ ticketType: 'GA', availableQuantity: 50 });
    expect(Date.now() - started).toBeLessThan(2000);
  }
  const customerId = uniqueId('c');
  const placed = await request(h.app)
    .post('/orders')
    .set(as.customer(customerId))
    .send({ customerId, eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' })
    .expect(202);
  await request(h.app).get(`/orders/${placed.body.orderId}`).set(as.customer(customerId)).expect(200);
  await request(h.app).post(`/orders/${placed.body.orderId}/cancel`).set(as.customer(customerId)).expect(202);
  // Validation against the inventory works without the cache too.
  await request(h.app)
    .post('/orders')
    .set(as.customer(customerId))
    .send({ customerId, eventId, items: [{ ticketType: 'BOX', quantity: 1 }], paymentToken: 'tok_visa' })
    .expect(422);
});

it('reports DEGRADED with HTTP 200', async () => {
  const res = await request(h.app).get('/actuator/health').expect(200);
  expect(res.body.status).toBe('DEGRADED');
  expect(res.body.components).toMatchObject({
    dynamodb: { status: 'UP' },
    sqs: { status: 'UP' },
    redis: { status: 'DOWN' },
  });
});

it('reports DOWN with HTTP 503 when the tables and queues are missing', async () => {
  const logger = createLogger('error');
  const missing = resourceNames(uniqueId('missing'));
  const app = createApp({
    runtime: h.runtime,
    store: h.store,
    orders: new OrderQueries(h.aws.clients.doc, h.aws.names.tables),
    inventory: inventoryPortFrom(h.participantDeps),
    cache: h.cache,
    health: createHealthCheck(h.aws.clients, h.redis, missing),
    logger,
    redis: h.redis,
    config: h.config,
  });
  const res = await request(app).get('/actuator/health').expect(503);
  expect(res.body).toMatchObject({
    status: 'DOWN',
    components: { dynamodb: { status: 'DOWN' }, sqs: { status: 'DOWN' }, redis: { status: 'DOWN' } },
  });
});
