/**
 * The OpenAPI document: every route Express serves is in it (a route added without its schemas
 * fails here), it validates as OpenAPI 3.1 (@seriousme/openapi-schema-validator, run as the ESM
 * module it is, in its own node process), and each documented route answers as documented: one
 * 2xx and one 4xx per route, each status listed for it, every 4xx a problem+json, and every body
 * with a documented schema (problems, orders, sagas) valid against it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Express } from 'express';
import { openApiDocument } from '../../src/api/openapi';
import { ROUTE_TABLE as API_ROUTES } from '../../src/routes';
import { createApp } from '../../src/routes';
import { http } from '../support/http';
import { as, bearer } from '../support/auth';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { eventually, startTestService, type TestService } from '../support/service';
import { newEvent, placeOrder } from '../ops/helpers';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createHealthCheck } from '../../src/api/health';
import { closeRedis, createRedis } from '../../src/cache/redis';
import { resourceNames } from '../../src/infra/resources';
import { createLogger } from '../../src/observability/logger';
import { START_VERSION } from '../../machines/order-saga';
import { publicRequests } from '../../src/http/route';
import { ASSETS_PREFIX } from '../../src/http/assets';
import { ROLES, rolesFrom } from '../../src/http/auth/principal';

/** The requests the authentication door lets through without a token (derived from the table). */
const isPublic = publicRequests(API_ROUTES, [ASSETS_PREFIX]);

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ PAYMENT_SLOW_MS: '20000' }, { label: 'oa' });
});
afterAll(async () => {
  await service?.stop();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every (method, path) Express routes, nested routers included. */
function expressRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      // A path given as a RegExp is middleware on a route's path (the orders rate limiter), not a route.
      if (layer.route && typeof layer.route.path === 'string')
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all') out.push(`${method} ${layer.route.path}`);
      if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...new Set(out)].sort();
}

it('documents every route Express serves, each with its query schema and (for writes) its body schema', () => {
  const app = createApp({
    runtime: service.core.runtime,
    store: service.core.store,
    orders: {} as never,
    inventory: {} as never,
    cache: {} as never,
    health: async () => ({ status: 'UP' }) as never,
    logger: service.core.logger,
    config: service.config,
    redis: {} as never,
    ops: {} as never,
    console: { stuckAfterMs: 1 } as never,
    waitingRoom: {} as never,
  });
  const documented = API_ROUTES.map((r) => `${r.method} ${r.path}`).sort();
  expect(expressRoutes(app)).toEqual(documented);
  for (const r of API_ROUTES) {
    expect(r.query).not.toBeNull();
    if (r.method === 'post' || r.method === 'put') expect(r.body).toBeDefined();
  }
});

it('is a valid OpenAPI 3.1 document', async () => {
  const res = await http<Record<string, unknown>>(
    service.baseUrl,
    'GET',
    '/openapi.json',
    undefined,
    as.customer('c-oa'),
  );
  expect(res.status).toBe(200);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument(API_ROUTES))));
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
let text = ''; for await (const c of process.stdin) text += c;
const v = new Validator(); const r = await v.validate(JSON.parse(text));
console.log(JSON.stringify({ valid: r.valid, version: v.version, errors: r.errors ?? null }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify(res.body),
    cwd: path.resolve(__dirname, '../..'),
  });
  const result = JSON.parse(out.toString()) as { valid: boolean; version: string; errors: unknown };
  expect(result).toMatchObject({ valid: true, version: '3.1' });
});

/** An ajv holding the document's component schemas, so `oas#/components/schemas/X` (and refs between them) resolve. */
function documentAjv(doc: object): Ajv {
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  ajv.addSchema({ $id: 'oas', components: (doc as { components: object }).components });
  return ajv;
}

/**
 * Whether a live answer is one the document describes for `method path`: its status listed, its
 * content type one of that status's, its JSON body valid against that content's schema. Null when it is.
 */
async function undocumented(method: string, path: string, res: Response): Promise<string | null> {
  const contentType = res.headers.get('content-type') ?? '';
  return undocumentedAnswer(method, path, {
    status: res.status,
    contentType,
    body: /json/.test(contentType) ? ((await res.json()) as unknown) : undefined,
  });
}

/** undocumented() for an answer already read (supertest's). */
function undocumentedAnswer(
  method: string,
  path: string,
  res: { status: number; contentType: string; body: unknown },
): string | null {
  const doc = openApiDocument(API_ROUTES) as {
    paths: Record<
      string,
      Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
    >;
  };
  const answer = doc.paths[path][method].responses[String(res.status)];
  if (!answer) return `${method} ${path}: status ${res.status} is not documented`;
  const contentType = res.contentType.split(';')[0];
  const media = answer.content?.[contentType];
  if (!media) return `${method} ${path} ${res.status}: content type ${contentType} is not documented`;
  if (!/json/.test(contentType)) return null;
  const validate = documentAjv(doc).compile(JSON.parse(JSON.stringify(media.schema).replace(/"#\//g, '"oas#/')));
  return validate(res.body)
    ? null
    : `${method} ${path} ${res.status}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(res.body)}`;
}

it('the health DOWN answer is as documented: 503 application/json {status: DOWN, components}, not a problem', async () => {
  const logger = createLogger('error');
  const redis = createRedis(service.config.redisUrl, logger);
  try {
    const app = createApp({
      runtime: service.core.runtime,
      store: service.core.store,
      orders: {} as never,
      inventory: {} as never,
      cache: {} as never,
      // The real check, over tables and queues that do not exist: DynamoDB and SQS are DOWN.
      health: createHealthCheck(service.core.clients, redis, resourceNames(`missing-oa-${Date.now()}-`)),
      logger,
      config: service.config,
      redis,
      ops: {} as never,
      console: { stuckAfterMs: 1 } as never,
      waitingRoom: {} as never,
    });
    const res = await request(app).get('/actuator/health');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'DOWN' });
    expect(
      undocumentedAnswer('get', '/actuator/health', {
        status: res.status,
        contentType: String(res.headers['content-type']),
        body: res.body as unknown,
      }),
    ).toBeNull();
  } finally {
    await closeRedis(redis);
  }
});

it('401, 403 and 429 answer as documented: problem+json with their problem types', async () => {
  const h = await startTestService({ RATE_LIMIT_ORDERS_PER_MINUTE: '1' }, { label: 'oal' });
  try {
    const post = (headers: Record<string, string>) =>
      fetch(`${h.baseUrl}/orders`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{}',
      });
    const customer = bearer('customer', `c-oal-${Date.now()}`);
    const answers: Array<[number, Response]> = [
      [401, await post({})],
      [401, await post({ Authorization: 'Bearer x.y.z' })],
      [403, await post(bearer('organizer', 'org-oal'))],
      [400, await post(customer)],
      [429, await post(customer)],
      [403, await fetch(`${h.baseUrl}/ops/overview`, { headers: bearer('customer', 'c-oal') })],
      [401, await fetch(`${h.baseUrl}/ops/overview`)],
    ];
    const problems: string[] = [];
    for (const [i, [expected, res]] of answers.entries()) {
      const path = i < 5 ? '/orders' : '/ops/overview';
      const method = i < 5 ? 'post' : 'get';
      expect({ i, status: res.status }).toEqual({ i, status: expected });
      const wrong = await undocumented(method, path, res);
      if (wrong) problems.push(wrong);
    }
    expect(problems).toEqual([]);
  } finally {
    await h.stop();
  }
});

type Call = { method: string; path: string; body?: unknown; headers?: Record<string, string> };

it('each documented route answers one 2xx and one 4xx, as documented', async () => {
  const doc = openApiDocument(API_ROUTES) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  };
  const ajv = documentAjv(doc);
  const eventId = await newEvent(service.baseUrl, 10);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  const other = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  const missing = '00000000-0000-4000-8000-000000000000';
  // One caller with every role: each route is tried for its schema, not its role (that is
  // test/api/role-matrix.test.ts). Its sub is the customer the helpers place orders for.
  const everyRole = bearer(['customer', 'organizer', 'operator-repair'], 'c-ops');
  const op = {};
  const calls: Record<string, { ok: Call; bad: Call }> = {
    'post /orders': {
      ok: {
        method: 'POST',
        path: '/orders',
        body: { customerId: 'c-ops', eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_slow' },
      },
      bad: { method: 'POST', path: '/orders', body: { customerId: 'c-oa' } },
    },
    'get /orders': { ok: { method: 'GET', path: '/orders?customerId=c-ops' }, bad: { method: 'GET', path: '/orders' } },
    'get /orders/:orderId': {
      ok: { method: 'GET', path: `/orders/${orderId}` },
      bad: { method: 'GET', path: `/orders/${missing}` },
    },
    'post /orders/:orderId/cancel': {
      ok: { method: 'POST', path: `/orders/${other}/cancel`, body: { reason: 'changed my mind' } },
      bad: { method: 'POST', path: `/orders/${missing}/cancel`, body: {} },
    },
    'get /sagas': {
      ok: { method: 'GET', path: '/sagas?status=PENDING' },
      bad: { method: 'GET', path: '/sagas?status=NOPE' },
    },
    'get /sagas/stream': {
      ok: { method: 'GET', path: '/sagas/stream' },
      bad: { method: 'GET', path: '/sagas/stream', headers: { 'Last-Event-ID': 'garbage' } },
    },
    'get /sagas/:orderId': {
      ok: { method: 'GET', path: `/sagas/${orderId}` },
      bad: { method: 'GET', path: '/sagas/not-a-uuid' },
    },
    'get /sagas/:orderId/stream': {
      ok: { method: 'GET', path: `/sagas/${orderId}/stream` },
      bad: { method: 'GET', path: `/sagas/${missing}/stream` },
    },
    'get /machines/order-saga': {
      ok: { method: 'GET', path: '/machines/order-saga' },
      bad: { method: 'GET', path: '/machines/order-saga?x=1' },
    },
    'get /machines/order-saga/versions': {
      ok: { method: 'GET', path: '/machines/order-saga/versions' },
      bad: { method: 'GET', path: '/machines/order-saga/versions?x=1' },
    },
    'get /machines/order-saga/versions/:version': {
      ok: { method: 'GET', path: '/machines/order-saga/versions/2' },
      bad: { method: 'GET', path: '/machines/order-saga/versions/99' },
    },
    'get /orders/:orderId/queue': {
      ok: { method: 'GET', path: `/orders/${orderId}/queue` },
      bad: { method: 'GET', path: `/orders/${missing}/queue` },
    },
    'put /events/:eventId/admission': {
      ok: { method: 'PUT', path: `/events/ev-oa-adm-${Date.now()}/admission`, body: { maxActiveOrders: null } },
      bad: { method: 'PUT', path: `/events/${eventId}/admission`, body: {} },
    },
    'get /ops/sagas/machine-versions': {
      ok: { method: 'GET', path: '/ops/sagas/machine-versions?limit=5' },
      bad: { method: 'GET', path: '/ops/sagas/machine-versions?limit=0' },
    },
    'get /events/:eventId/inventory': {
      ok: { method: 'GET', path: `/events/${eventId}/inventory` },
      bad: { method: 'GET', path: '/events/ev-none-such/inventory' },
    },
    'put /events/:eventId/inventory': {
      ok: {
        method: 'PUT',
        path: `/events/ev-oa-${Date.now()}/inventory`,
        body: { eventName: 'OA', ticketTypes: [{ ticketType: 'GA', totalQuantity: 1, price: 1, currency: 'EUR' }] },
      },
      bad: { method: 'PUT', path: `/events/${eventId}/inventory`, body: { eventName: 'OA' } },
    },
    'get /actuator/health': {
      ok: { method: 'GET', path: '/actuator/health' },
      bad: { method: 'GET', path: '/actuator/health?verbose=1' },
    },
    'get /ops/overview': {
      ok: { method: 'GET', path: '/ops/overview' },
      bad: { method: 'GET', path: '/ops/overview?x=1' },
    },
    'get /ops/sagas/stuck': {
      ok: { method: 'GET', path: '/ops/sagas/stuck?limit=5' },
      bad: { method: 'GET', path: '/ops/sagas/stuck?limit=0' },
    },
    'post /ops/sagas/:orderId/retry': {
      ok: { method: 'POST', path: `/ops/sagas/${orderId}/retry`, body: { reason: 'oa' }, headers: op },
      bad: {
        method: 'POST',
        path: `/ops/sagas/${orderId}/retry`,
        body: { reason: 'oa' },
        headers: { ...op, 'If-Match': '"1"' },
      },
    },
    'post /ops/sagas/:orderId/compensate': {
      ok: { method: 'POST', path: `/ops/sagas/${orderId}/compensate`, body: { reason: 'oa' }, headers: op },
      bad: { method: 'POST', path: `/ops/sagas/${missing}/compensate`, body: { reason: 'oa' }, headers: op },
    },
    'get /ops/dlq': {
      ok: { method: 'GET', path: '/ops/dlq?limit=1' },
      bad: { method: 'GET', path: '/ops/dlq?limit=x' },
    },
    'post /ops/dlq/redrive': {
      ok: { method: 'POST', path: '/ops/dlq/redrive', body: { ids: ['no-such-message'], reason: 'oa' }, headers: op },
      bad: { method: 'POST', path: '/ops/dlq/redrive', body: { ids: ['x'] } },
    },
    'delete /ops/dlq/:id': {
      ok: { method: 'DELETE', path: '/ops/dlq/PLACEHOLDER', headers: op },
      bad: { method: 'DELETE', path: '/ops/dlq/no-such-message?reason=oa', headers: op },
    },
    'get /console': { ok: { method: 'GET', path: '/console' }, bad: { method: 'GET', path: '/console?x=1' } },
    'get /console/sagas': {
      ok: { method: 'GET', path: '/console/sagas?status=PENDING' },
      bad: { method: 'GET', path: '/console/sagas?state=nowhere' },
    },
    'get /console/sagas/:orderId': {
      ok: { method: 'GET', path: `/console/sagas/${orderId}` },
      bad: { method: 'GET', path: `/console/sagas/${missing}` },
    },
    'get /console/machine': {
      ok: { method: 'GET', path: '/console/machine' },
      bad: { method: 'GET', path: '/console/machine?x=1' },
    },
    'get /console/dlq': {
      ok: { method: 'GET', path: '/console/dlq' },
      bad: { method: 'GET', path: '/console/dlq?x=1' },
    },
    'get /console/login': {
      ok: { method: 'GET', path: '/console/login' },
      bad: { method: 'GET', path: '/console/login?x=1' },
    },
    'get /console/inspect/:orderId': {
      ok: { method: 'GET', path: `/console/inspect/${orderId}` },
      bad: { method: 'GET', path: '/console/inspect/not-a-uuid' },
    },
    'get /openapi.json': {
      ok: { method: 'GET', path: '/openapi.json' },
      bad: { method: 'GET', path: '/openapi.json?x=1' },
    },
    'get /docs': { ok: { method: 'GET', path: '/docs' }, bad: { method: 'GET', path: '/docs?x=1' } },
    'get /favicon.ico': {
      ok: { method: 'GET', path: '/favicon.ico' },
      bad: { method: 'GET', path: '/favicon.ico?x=1' },
    },
  };
  expect(Object.keys(calls).sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());

  // A dead letter to delete: a poison command, moved to the DLQ by the in-process workers.
  await service.core.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: service.core.queues.inventory,
      MessageBody: '{"type":"command","command":{"kind":"Nope"}}',
    }),
  );
  const letters = await eventually(
    async () =>
      (await http<{ messages: Array<{ id: string }> }>(service.baseUrl, 'GET', '/ops/dlq', undefined, as.operator()))
        .body.messages,
    (ms) => ms.length > 0,
    20000,
  );
  calls['delete /ops/dlq/:id'].ok.path = `/ops/dlq/${letters[0].id}?reason=oa`;

  for (const r of API_ROUTES) {
    const key = `${r.method} ${r.path}`;
    const documented = doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')][r.method].responses;
    for (const kind of ['ok', 'bad'] as const) {
      const call = calls[key][kind];
      const controller = new AbortController();
      const res = await fetch(`${service.baseUrl}${call.path}`, {
        method: call.method,
        headers: {
          ...everyRole,
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...call.headers,
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: controller.signal,
      });
      const contentType = res.headers.get('content-type') ?? '';
      const json = /json/.test(contentType) ? ((await res.json()) as unknown) : undefined;
      controller.abort(); // streams never end by themselves
      const where = `${key} (${kind}: ${call.method} ${call.path}) answered ${res.status}`;
      expect({ where, documented: Object.keys(documented).includes(String(res.status)) }).toEqual({
        where,
        documented: true,
      });
      // The body matches the schema documented for that status, where one is given.
      const schema = (documented[String(res.status)] as { content?: Record<string, { schema?: { $ref?: string } }> })
        .content;
      const ref = schema && Object.values(schema)[0]?.schema?.$ref;
      if (ref) {
        const validate = ajv.compile({ $ref: `oas${ref}` });
        expect({ where, valid: validate(json), errors: validate.errors ?? null }).toEqual({
          where,
          valid: true,
          errors: null,
        });
      }
      if (kind === 'ok') expect({ where, ok: res.status >= 200 && res.status < 300 }).toEqual({ where, ok: true });
      else {
        expect({ where, bad: res.status >= 400 && res.status < 500 }).toEqual({ where, bad: true });
        expect({ where, contentType }).toEqual({
          where,
          contentType: expect.stringContaining('application/problem+json'),
        });
      }
    }
  }
});

/** A concrete path for a route: fresh ids, so no ownership or state rule answers before the role check. */
function concrete(path: string): string {
  return path
    .replace(':orderId', randomUUID())
    .replace(':eventId', `ev-roles-${randomUUID().slice(0, 8)}`)
    .replace(':version', START_VERSION)
    .replace(':id', randomUUID());
}

/** The status of one call as `headers`; streams are cut once their head arrives. */
async function statusOf(r: (typeof API_ROUTES)[number], headers: Record<string, string>): Promise<number> {
  const controller = new AbortController();
  const writes = r.method === 'post' || r.method === 'put';
  const res = await fetch(`${service.baseUrl}${concrete(r.path)}`, {
    method: r.method.toUpperCase(),
    headers: { ...headers, ...(writes ? { 'content-type': 'application/json' } : {}) },
    body: writes ? '{}' : undefined,
    signal: controller.signal,
  });
  controller.abort();
  return res.status;
}

it("each route's declared roles are what the service enforces: a listed role passes, any other gets 403", async () => {
  const doc = openApiDocument(API_ROUTES) as {
    paths: Record<string, Record<string, { security: unknown[]; 'x-roles': string[] }>>;
    components: { securitySchemes: Record<string, { type: string; scheme: string }> };
  };
  expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const mismatches: string[] = [];
  for (const r of API_ROUTES) {
    const key = `${r.method.toUpperCase()} ${r.path}`;
    const op = doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')][r.method];
    expect({ key, roles: op['x-roles'], security: op.security }).toEqual({
      key,
      roles: [...r.roles],
      security: r.roles.length > 0 ? [{ bearer: [] }] : [],
    });
    // Public exactly when the authentication door lets it through without a token.
    expect({ key, public: r.roles.length === 0 }).toEqual({
      key,
      public: isPublic(key.split(' ')[0], concrete(r.path)),
    });
    const anonymous = await statusOf(r, {});
    if ((r.roles.length === 0) !== (anonymous !== 401)) mismatches.push(`${key} anonymous: ${anonymous}`);
    if (r.roles.length === 0) continue;
    for (const role of ROLES) {
      // A role passes when it, or a role it implies, is listed (operator-repair implies operator).
      const allowed = [...rolesFrom([role])].some((x) => r.roles.includes(x));
      const status = await statusOf(r, bearer(role, `roles-${randomUUID()}`));
      if (allowed !== (status !== 403) || status === 401)
        mismatches.push(`${key} as ${role}: ${status}, declared ${allowed ? 'allowed' : 'forbidden'}`);
    }
  }
  expect(mismatches).toEqual([]);
});

it("documents no X-Operator-Id header: the service ignores it (the operator is the token's sub)", () => {
  const doc = openApiDocument(API_ROUTES) as {
    paths: Record<string, Record<string, { parameters: Array<{ name: string }> }>>;
  };
  const named = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.parameters.some((p) => p.name.toLowerCase() === 'x-operator-id'))
      .map(([method]) => `${method} ${path}`),
  );
  expect(named).toEqual([]);
});

it("POST /orders' 202 answers are as documented: placed, queued, and their replays", async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  // One order at a time in its saga: a slow payment holds the place, so the next waits in the room.
  const admission = await fetch(`${service.baseUrl}/events/${eventId}/admission`, {
    method: 'PUT',
    headers: { ...bearer('operator-repair', 'op-oa'), 'content-type': 'application/json' },
    body: JSON.stringify({ maxActiveOrders: 1 }),
  });
  expect(admission.status).toBe(200);
  const customer = bearer('customer', `c-oa-q-${Date.now()}`);
  const order = { eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_slow' };
  const post = (key: string) =>
    fetch(`${service.baseUrl}/orders`, {
      method: 'POST',
      headers: { ...customer, 'content-type': 'application/json', 'Idempotency-Key': key },
      body: JSON.stringify(order),
    });
  const seen: string[] = [];
  const problems: string[] = [];
  const check = async (label: string, res: Response) => {
    const body = (await res.clone().json()) as { status?: string; orderId: string };
    seen.push(`${label} ${res.status} ${body.status}${res.headers.get('idempotent-replayed') ? ' replayed' : ''}`);
    const wrong = await undocumented('post', '/orders', res);
    if (wrong) problems.push(`${label}: ${wrong}`);
    return body;
  };
  await check('placed', await post('k-placed'));
  await check('placed again', await post('k-placed'));
  const queued = await check('queued', await post('k-queued'));
  await check('queued again', await post('k-queued'));
  const cancel = await fetch(`${service.baseUrl}/orders/${queued.orderId}/cancel`, {
    method: 'POST',
    headers: { ...customer, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(cancel.status).toBe(202);
  await check('cancelled while queued, again', await post('k-queued'));
  expect(seen).toEqual([
    'placed 202 PENDING',
    'placed again 202 PENDING replayed',
    'queued 202 QUEUED',
    'queued again 202 QUEUED replayed',
    'cancelled while queued, again 202 CANCELLED replayed',
  ]);
  expect(problems).toEqual([]);
});
