/**
 * Path spellings (issue 22, kind 2): no spelling of a path that reaches a handler may skip its
 * limiter, its role check or its body schema. Routing is strict and case-sensitive, so every
 * other spelling of every route in the API's route list (src/routes.ts ROUTE_TABLE: orders,
 * cancel, inventory, admission, sagas, streams, ops, console, machines) is refused with 404 and
 * changes nothing; HEAD goes through GET's role check. Raw HTTP (node:http): fetch would resolve
 * dot segments before sending them.
 */
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ROUTE_TABLE as API_ROUTES } from '../../src/routes';
import { ORDER_SAGA_VERSION } from '../../machines/order-saga';
import { as, bearer } from '../support/auth';
import { http } from '../support/http';
import { newEvent, startTestService, type TestService } from '../support/service';
import { spellingsOf } from '../../scripts/fuzz/path-spellings';

jest.setTimeout(180_000);

const ORDERS_PER_MINUTE = 3;
let service: TestService;
let eventId: string;

beforeAll(async () => {
  service = await startTestService({ RATE_LIMIT_ORDERS_PER_MINUTE: String(ORDERS_PER_MINUTE) }, { label: 'ps' });
  eventId = await newEvent(service.core, 1000, 10);
});
afterAll(async () => {
  await service?.stop();
});

interface RawAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** One request with the path sent exactly as written; a stream is cut after its headers. */
function raw(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<RawAnswer> {
  const url = new URL(service.baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        if (contentType.startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, contentType, body: '' });
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function ordersStored(): Promise<number> {
  const page = await service.aws.clients.doc.send(
    new ScanCommand({ TableName: service.aws.names.tables.orders, Select: 'COUNT', ConsistentRead: true }),
  );
  return page.Count ?? 0;
}

const SAMPLE: Record<string, () => string> = {
  orderId: () => randomUUID(),
  eventId: () => eventId,
  version: () => ORDER_SAGA_VERSION,
  id: () => 'm-1',
};

const fill = (name: string): string => SAMPLE[name]();

/** The canonical path of a route with sample parameters. */
function canonical(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) => fill(name));
}

/** A body that would pass the route's schema, so a spelling that reached the handler would act. */
function bodyFor(method: string, path: string, customer: string): unknown {
  if (method === 'get' || method === 'delete') return undefined;
  if (path === '/orders')
    return { customerId: customer, eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' };
  if (path.endsWith('/inventory'))
    return {
      eventName: 'Spelled',
      ticketTypes: [{ ticketType: 'GA', totalQuantity: 5, price: 1, currency: 'EUR' }],
    };
  if (path.endsWith('/admission')) return { maxActiveOrders: 1 };
  return {};
}

const ROUTES = API_ROUTES.map((r) => ({
  method: r.method.toUpperCase(),
  path: r.path,
  pattern: new RegExp(`^${r.path.replace(/\./g, '\\.').replace(/:[A-Za-z]+/g, '[^/]+')}$`),
}));

/** A spelling that is the canonical spelling of another declared route (its own guards apply), e.g. /versions/. */
const declared = (method: string, path: string) => ROUTES.some((r) => r.method === method && r.pattern.test(path));

it('every route answers on its canonical spelling (the list below is the one the server serves)', async () => {
  const all = bearer(['customer', 'organizer', 'operator-repair'], `c-${randomUUID()}`);
  for (const r of ROUTES.filter((x) => x.method === 'GET')) {
    const answer = await raw(r.method, canonical(r.path), all);
    expect({ route: `${r.method} ${r.path}`, noRoute: /no route for/.test(answer.body) }).toEqual({
      route: `${r.method} ${r.path}`,
      noRoute: false,
    });
  }
});

it('every other spelling of every route is refused (404, 405 or 400), and nothing changes', async () => {
  const sub = `c-${randomUUID()}`;
  // Every role, so that nothing but the spelling can refuse the request.
  const all = bearer(['customer', 'organizer', 'operator-repair'], sub);
  const before = await ordersStored();
  const reached: string[] = [];
  for (const r of ROUTES) {
    for (const spelling of spellingsOf(r.path, fill).filter((p) => !declared(r.method, p))) {
      const answer = await raw(r.method, spelling, all, bodyFor(r.method.toLowerCase(), r.path, sub));
      // 405: the spelling matched no route (only another route's pattern); 400: refused before any route.
      const refused =
        (answer.status === 404 && /no route for/.test(answer.body)) || answer.status === 405 || answer.status === 400;
      if (!refused) reached.push(`${r.method} ${spelling} -> ${answer.status}`);
    }
  }
  expect(reached).toEqual([]);
  expect(await ordersStored()).toBe(before);
  const inventory = await http(service.baseUrl, 'GET', `/events/${eventId}/inventory`, undefined, as.organizer());
  expect(inventory.body.eventName).toBe(`Event ${eventId}`);
});

it(`POST /ORDERS with one customer token never places more than the ${ORDERS_PER_MINUTE} a minute`, async () => {
  const customer = `c-${randomUUID()}`;
  const body = { customerId: customer, eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' };
  const statuses: number[] = [];
  for (const path of ['/ORDERS', '/Orders', '/orders/', '//orders', '/%6Frders', '/orders;x=1', '/x/../orders']) {
    for (let i = 0; i < ORDERS_PER_MINUTE + 1; i++)
      statuses.push((await raw('POST', path, as.customer(customer), body)).status);
  }
  expect(statuses.filter((s) => s === 202)).toEqual([]);
  // The canonical spelling still gets its limit: 3 accepted, then 429.
  const canonicalStatuses: number[] = [];
  for (let i = 0; i < ORDERS_PER_MINUTE + 1; i++)
    canonicalStatuses.push((await raw('POST', '/orders', as.customer(customer), body)).status);
  expect(canonicalStatuses).toEqual([...Array(ORDERS_PER_MINUTE).fill(202), 429]);
});

it('HEAD goes through the same role check as GET', async () => {
  const customer = as.customer(`c-${randomUUID()}`);
  for (const path of ['/sagas', '/ops/dlq', '/ops/overview', '/console/sagas', `/events/${eventId}/inventory`]) {
    expect({ path, status: (await raw('HEAD', path, customer)).status }).toEqual({ path, status: 403 });
  }
});
