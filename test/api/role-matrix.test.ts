/**
 * The role matrix: every route × {anonymous, customer, another customer, organizer, operator,
 * operator-repair} → the status docs/security.md says, 0 mismatches. The expected values are read
 * from the table in docs/security.md, so the document and the behaviour cannot drift apart; every
 * route the API serves (src/api/app.ts API_ROUTES, the 405 table derived from them) must have a row.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { START_VERSION } from '../../machines/order-saga';
import { API_ROUTES } from '../../src/api/app';
import { allowedMethods } from '../../src/http/route';
import { bearer } from '../support/auth';
import { createApiHarness, uniqueId, type ApiHarness } from './harness';

const IDENTITIES = ['anonymous', 'customer', 'another customer', 'organizer', 'operator', 'operator-repair'] as const;
type Identity = (typeof IDENTITIES)[number];

/** The rows between the role-matrix markers: route → status per identity. */
function readMatrix(): Map<string, Record<Identity, number>> {
  const text = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'security.md'), 'utf8');
  const block = /<!-- role-matrix:start -->([\s\S]*?)<!-- role-matrix:end -->/.exec(text);
  if (!block) throw new Error('docs/security.md has no role matrix');
  const rows = block[1].trim().split('\n').slice(2);
  const matrix = new Map<string, Record<Identity, number>>();
  for (const row of rows) {
    const cells = row
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const route = cells[0].replace(/`/g, '');
    const statuses = cells.slice(1).map(Number);
    if (statuses.length !== IDENTITIES.length || statuses.some((s) => !Number.isInteger(s)))
      throw new Error(`bad matrix row: ${row}`);
    matrix.set(route, Object.fromEntries(IDENTITIES.map((id, i) => [id, statuses[i]])) as Record<Identity, number>);
  }
  return matrix;
}

let h: ApiHarness;
const eventId = uniqueId('matrix');
const othersEventId = uniqueId('theirs');
const CUSTOMER = uniqueId('owner');
const OTHER = uniqueId('other');

const headersOf: Record<Identity, () => Record<string, string>> = {
  anonymous: () => ({}),
  customer: () => bearer('customer', CUSTOMER),
  'another customer': () => bearer('customer', OTHER),
  organizer: () => bearer('organizer', 'org-matrix'),
  operator: () => bearer('operator', 'op-matrix'),
  'operator-repair': () => bearer('operator-repair', 'repair-matrix'),
};

async function newOrder(): Promise<string> {
  const res = await request(h.app)
    .post('/orders')
    .set(bearer('customer', CUSTOMER))
    .send({ eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' })
    .expect(202);
  return res.body.orderId as string;
}

/**
 * A valid request for each row; mutating rows get a fresh order per identity so earlier cells cannot change later ones.
 */
const requests: Record<string, (agent: request.Agent) => Promise<request.Response>> = {
  'GET /actuator/health': (a) => a.get('/actuator/health'),
  'GET /openapi.json': (a) => a.get('/openapi.json'),
  'GET /docs': (a) => a.get('/docs'),
  'POST /orders': (a) =>
    a.post('/orders').send({ eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' }),
  'GET /orders?customerId={customer}': (a) => a.get('/orders').query({ customerId: CUSTOMER }),
  'GET /orders/{orderId}': async (a) => a.get(`/orders/${await newOrder()}`),
  'POST /orders/{orderId}/cancel': async (a) => a.post(`/orders/${await newOrder()}/cancel`).send({ reason: 'matrix' }),
  'GET /orders/{orderId}/queue': async (a) => a.get(`/orders/${await newOrder()}/queue`),
  'PUT /events/{eventId}/admission': (a) => a.put(`/events/${uniqueId('ev')}/admission`).send({ maxActiveOrders: 0 }),
  'GET /sagas?status=PENDING': (a) => a.get('/sagas').query({ status: 'PENDING' }),
  'GET /sagas/{orderId}': async (a) => a.get(`/sagas/${await newOrder()}`),
  'GET /machines/order-saga': (a) => a.get('/machines/order-saga'),
  'GET /machines/order-saga/versions': (a) => a.get('/machines/order-saga/versions'),
  'GET /machines/order-saga/versions/{version}': (a) => a.get(`/machines/order-saga/versions/${START_VERSION}`),
  'GET /events/{eventId}/inventory': (a) => a.get(`/events/${eventId}/inventory`),
  'PUT /events/{eventId}/inventory': (a) =>
    a
      .put(`/events/${uniqueId('ev')}/inventory`)
      .send({ eventName: 'Matrix', ticketTypes: [{ ticketType: 'GA', totalQuantity: 5, price: 1, currency: 'EUR' }] }),
  // An event another organizer owns (src/participants/event-owner.ts): only operator-repair may change it.
  'PUT /events/{eventOfAnotherOrganizer}/inventory': (a) =>
    a
      .put(`/events/${othersEventId}/inventory`)
      .send({ eventName: 'Theirs', ticketTypes: [{ ticketType: 'GA', totalQuantity: 5, price: 1, currency: 'EUR' }] }),
  'PUT /events/{eventOfAnotherOrganizer}/admission': (a) =>
    a.put(`/events/${othersEventId}/admission`).send({ maxActiveOrders: 0 }),
  'GET /ops/overview': (a) => a.get('/ops/overview'),
  'GET /ops/sagas/stuck': (a) => a.get('/ops/sagas/stuck'),
  'GET /ops/sagas/machine-versions': (a) => a.get('/ops/sagas/machine-versions'),
  'POST /ops/sagas/{orderId}/retry': async (a) =>
    a.post(`/ops/sagas/${await newOrder()}/retry`).send({ reason: 'matrix' }),
  'POST /ops/sagas/{orderId}/compensate': async (a) =>
    a.post(`/ops/sagas/${await newOrder()}/compensate`).send({ reason: 'matrix' }),
  'GET /ops/dlq': (a) => a.get('/ops/dlq'),
  'POST /ops/dlq/redrive': (a) => a.post('/ops/dlq/redrive').send({ ids: [randomUUID()], reason: 'matrix' }),
  'DELETE /ops/dlq/{messageId}': (a) => a.delete(`/ops/dlq/${randomUUID()}`).query({ reason: 'matrix' }),
};

/** A concrete path for a route's pattern, to match it against the app's route table. */
function concretePath(route: string): { method: string; path: string } {
  const [method, target] = route.split(' ') as [string, string];
  return { method, path: target.split('?')[0].replace(/\{[^}]+\}/g, 'x') };
}

beforeAll(async () => {
  h = await createApiHarness({ label: 'apix' });
  await request(h.app)
    .put(`/events/${eventId}/inventory`)
    .set(bearer('organizer', 'org-matrix'))
    .send({ eventName: 'Matrix', ticketTypes: [{ ticketType: 'GA', totalQuantity: 1000, price: 1, currency: 'EUR' }] })
    .expect(200);
  await request(h.app)
    .put(`/events/${othersEventId}/inventory`)
    .set(bearer('organizer', 'org-someone-else'))
    .send({ eventName: 'Theirs', ticketTypes: [{ ticketType: 'GA', totalQuantity: 5, price: 1, currency: 'EUR' }] })
    .expect(200);
});

afterAll(async () => {
  await h?.close();
});

it('every route the app serves has a row, and every row a request', () => {
  const matrix = readMatrix();
  const rows = [...matrix.keys()].map(concretePath);
  for (const route of allowedMethods(API_ROUTES)) {
    for (const method of route.allow.split(', ')) {
      const covered = rows.some((r) => r.method === method && route.pattern.test(r.path));
      expect({ route: `${method} ${route.pattern}`, covered }).toEqual({
        route: `${method} ${route.pattern}`,
        covered: true,
      });
    }
  }
  expect([...matrix.keys()].sort()).toEqual(Object.keys(requests).sort());
});

it('every route × identity answers as docs/security.md says: 0 mismatches', async () => {
  const mismatches: string[] = [];
  let cells = 0;
  for (const [route, expected] of readMatrix()) {
    for (const identity of IDENTITIES) {
      const res = await requests[route](request.agent(h.app).set(headersOf[identity]()));
      cells++;
      if (res.status !== expected[identity])
        mismatches.push(
          `${route} as ${identity}: ${res.status}, expected ${expected[identity]} ${JSON.stringify(res.body).slice(0, 160)}`,
        );
      if (res.status >= 400) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  }
  expect(mismatches).toEqual([]);
  expect(cells).toBe(26 * 6);
});
