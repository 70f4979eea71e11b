/**
 * The OpenAPI 3.1 document, derived from the route declarations (src/http/route.ts RouteDoc): the
 * same ajv schema objects the routes validate with (src/api/schemas.ts, src/console/schemas.ts,
 * the machine's schemas), the same roles they check. The table is assembled in src/routes.ts;
 * test/api/openapi.test.ts fails when Express serves a route the table lacks, and calls each route
 * for a 2xx and a 4xx. JSON Schema draft 2020-12 (OpenAPI 3.1's dialect) reads these draft-07
 * schemas as they are.
 */
import { ORDER_SAGA_VERSION } from '../../machines/order-saga';
import { PROBLEM_TYPES, problemBody, type ProblemKind } from '../http/problem';
import type { Media, RouteDoc, RouteTag, Schema } from '../http/route';
import { SSE_SCHEMAS, withSseEvents } from './openapi-sse';

const nullableString = { type: ['string', 'null'] };
const links = { type: 'object', additionalProperties: { type: 'string' } };

/** One dependency's health (src/api/health.ts ComponentHealth). */
const componentHealth = {
  type: 'object',
  required: ['status'],
  properties: { status: { enum: ['UP', 'DOWN'] }, error: { type: 'string', description: 'Why it is DOWN' } },
};

/** A health report whose overall status is one of `statuses` (src/api/health.ts HealthReport). */
const healthReport = (statuses: string[]): Schema => ({
  type: 'object',
  required: ['status', 'components'],
  properties: {
    status: { enum: statuses },
    components: {
      type: 'object',
      required: ['dynamodb', 'sqs', 'redis'],
      properties: { dynamodb: componentHealth, sqs: componentHealth, redis: componentHealth },
    },
  },
});

/** Response bodies worth pinning down (components/schemas), checked against real answers in the tests. */
export const RESPONSE_SCHEMAS: Record<string, Schema> = {
  /** 200: UP, or DEGRADED when only Redis (optional) is DOWN. */
  Health: healthReport(['UP', 'DEGRADED']),
  /** 503, application/json (not a problem): DynamoDB or SQS is DOWN; the report says which. */
  HealthDown: healthReport(['DOWN']),
  /**
   * POST /orders' 202, one of three shapes told apart by `status` (src/api/routes/orders.ts): the
   * placed order (PENDING: its saga started; a replay of its key answers the same), the order waiting
   * in the event's waiting room (QUEUED, src/admission/; a replay answers its place now), and the
   * replay of a key whose queued order was cancelled before its saga started (CANCELLED).
   */
  OrderPlaceAnswer: {
    oneOf: [
      { $ref: '#/components/schemas/OrderAccepted' },
      { $ref: '#/components/schemas/OrderQueued' },
      { $ref: '#/components/schemas/OrderCancelledWhileQueued' },
    ],
    discriminator: {
      propertyName: 'status',
      mapping: {
        PENDING: '#/components/schemas/OrderAccepted',
        QUEUED: '#/components/schemas/OrderQueued',
        CANCELLED: '#/components/schemas/OrderCancelledWhileQueued',
      },
    },
  },
  /**
   * GET and PUT /events/{eventId}/inventory's 200 (src/api/inventory.ts, inventoryView): per ticket
   * type the seats summed over its shards. `takenQuantity` (held or sold) replaced
   * `reservedQuantity` and `soldQuantity` when the confirm stopped moving seats on the inventory
   * (issue 25): which taken seats are paid for is the reservations' (and the orders') to say.
   */
  Inventory: {
    type: 'object',
    required: ['eventId', 'eventName', 'ticketTypes'],
    properties: {
      eventId: { type: 'string' },
      eventName: { type: 'string' },
      ticketTypes: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['ticketType', 'totalQuantity', 'availableQuantity', 'takenQuantity', 'price', 'currency'],
          properties: {
            ticketType: { type: 'string' },
            totalQuantity: { type: 'integer', minimum: 0 },
            availableQuantity: { type: 'integer', minimum: 0, description: 'seats a new order can still hold' },
            takenQuantity: {
              type: 'integer',
              minimum: 0,
              description: 'seats held by an order or sold: totalQuantity − availableQuantity',
            },
            price: { type: 'number', minimum: 0, description: 'major units of currency' },
            currency: { type: 'string' },
            shards: { type: 'integer', minimum: 2, description: 'inventory shards, when more than one' },
          },
        },
      },
    },
  },
  OrderQueued: {
    type: 'object',
    required: ['orderId', 'status', 'position', 'estimatedWaitSeconds', 'links'],
    properties: {
      orderId: { type: 'string' },
      status: { const: 'QUEUED' },
      position: { type: 'integer', minimum: 1, description: '1 = next to be admitted' },
      estimatedWaitSeconds: { type: 'number', minimum: 0 },
      links: {
        type: 'object',
        required: ['self', 'queue', 'cancel'],
        properties: { self: { type: 'string' }, queue: { type: 'string' }, cancel: { type: 'string' } },
      },
    },
  },
  OrderCancelledWhileQueued: {
    type: 'object',
    required: ['orderId', 'status'],
    properties: { orderId: { type: 'string' }, status: { const: 'CANCELLED' } },
  },
  OrderAccepted: {
    type: 'object',
    required: ['orderId', 'orderNumber', 'eventName', 'status', 'sagaState', 'links'],
    properties: {
      orderId: { type: 'string' },
      orderNumber: nullableString,
      eventName: nullableString,
      // A new saga's status (its first state, reserving): the placed answer and its replays say so.
      status: { const: 'PENDING' },
      sagaState: { type: 'string' },
      links,
    },
  },
  Order: {
    type: 'object',
    required: [
      'orderId',
      'orderNumber',
      'eventName',
      'customerId',
      'eventId',
      'items',
      'status',
      'sagaState',
      'createdAt',
      'updatedAt',
      'links',
    ],
    properties: {
      orderId: { type: 'string' },
      orderNumber: nullableString,
      eventName: nullableString,
      customerId: { type: 'string' },
      eventId: { type: 'string' },
      items: { type: 'array', items: { type: 'object' } },
      status: { type: 'string' },
      totalAmount: { type: ['number', 'null'] },
      currency: nullableString,
      sagaState: { type: 'string' },
      createdAt: { type: 'string' },
      updatedAt: { type: 'string' },
      links,
    },
  },
  Saga: {
    type: 'object',
    required: [
      'orderId',
      'orderNumber',
      'state',
      'status',
      'version',
      'machineVersion',
      'context',
      'outbox',
      'stateEnteredAt',
      'updatedAt',
      'history',
    ],
    properties: {
      orderId: { type: 'string' },
      orderNumber: nullableString,
      eventName: nullableString,
      state: { type: 'string' },
      status: { type: 'string' },
      version: { type: 'integer', minimum: 1 },
      machineVersion: { type: 'string' },
      context: { type: 'object' },
      outbox: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kind', 'commandId'],
          properties: { kind: { type: 'string' }, commandId: { type: 'string' } },
        },
      },
      stateEnteredAt: { type: 'string' },
      updatedAt: { type: 'string' },
      history: {
        type: 'array',
        items: {
          type: 'object',
          required: ['version', 'eventType', 'timestamp', 'toState'],
          properties: {
            version: { type: 'integer' },
            eventType: { type: 'string' },
            timestamp: { type: 'string' },
            fromState: nullableString,
            toState: { type: 'string' },
            actor: { type: 'string' },
          },
        },
      },
    },
  },
};

const HEADER_PARAMS: Record<string, Schema> = {
  'Idempotency-Key': {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'Replays of the same key return the first answer (1-128 visible ASCII).',
    schema: { type: 'string', pattern: '^[\\x21-\\x7E]{1,128}$' },
  },
  'If-Match': {
    name: 'If-Match',
    in: 'header',
    required: false,
    description:
      'The saga version the decision was made on, quoted ("12"): else 412 and nothing is done (RFC 9110 §13.1.1).',
    schema: { type: 'string', pattern: '^"[1-9][0-9]{0,14}"$|^\\*$' },
  },
  'Last-Event-ID': {
    name: 'Last-Event-ID',
    in: 'header',
    required: false,
    description: 'Resume after this event id: what was missed is replayed once.',
    schema: { type: 'string' },
  },
};

const CORRELATION = {
  name: 'X-Correlation-Id',
  in: 'header',
  required: false,
  description: 'Echoed, logged, carried by the saga; a new UUID when absent or malformed.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
};

const PROBLEM_SCHEMA: Schema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    correlationId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};

const openApiPath = (path: string): string => path.replace(/:([A-Za-z]+)/g, '{$1}');

function queryParameters(schema: Schema): Schema[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: s,
  }));
}

function content(media: Media): Schema {
  if (typeof media === 'object')
    return { 'application/json': { schema: { $ref: `#/components/schemas/${media.json}` } } };
  switch (media) {
    case 'json':
      return { 'application/json': { schema: { type: 'object' } } };
    case 'html':
      return { 'text/html': { schema: { type: 'string' } } };
    case 'sse':
      return {
        'text/event-stream': {
          schema: { type: 'string', description: 'id: …\\nevent: …\\ndata: <JSON>\\n\\n, one block per event' },
        },
      };
    default:
      return { '*/*': { schema: {} } };
  }
}

const problemTitle = (status: number): string =>
  Object.values(PROBLEM_TYPES)
    .filter((p) => p.status === status)
    .map((p) => p.title)
    .join('; ') || 'Problem';

/** The `type` URI of a problem kind, as the service writes it (src/http/problem.ts). */
const problemType = (kind: ProblemKind): string => problemBody(kind, '').type;

/**
 * The problems the guards in front of every route answer (authentication, roles, rate limits),
 * each with its own schema pinning its `type` and `status`, and the headers it carries.
 */
const GUARD_PROBLEMS: Record<number, { kind: ProblemKind; schema: string; headers: Schema }> = {
  401: {
    kind: 'unauthorized',
    schema: 'ProblemUnauthorized',
    headers: {
      'WWW-Authenticate': {
        description: 'Bearer realm, and the error code when a token was sent (RFC 6750 §3)',
        schema: { type: 'string' },
      },
    },
  },
  403: {
    kind: 'forbidden',
    schema: 'ProblemForbidden',
    headers: {
      'WWW-Authenticate': {
        description: 'Bearer error="insufficient_scope" (RFC 6750 §3.1)',
        schema: { type: 'string' },
      },
    },
  },
  429: {
    kind: 'too-many-requests',
    schema: 'ProblemTooManyRequests',
    headers: {
      'Retry-After': { description: 'Seconds until the window resets', schema: { type: 'integer', minimum: 0 } },
      RateLimit: { description: 'draft-ietf-httpapi-ratelimit-headers-08', schema: { type: 'string' } },
      'RateLimit-Policy': { description: 'draft-ietf-httpapi-ratelimit-headers-08', schema: { type: 'string' } },
    },
  },
};

/** Problem schemas with one type: the guards' problems. */
function guardProblemSchemas(): Record<string, Schema> {
  return Object.fromEntries(
    Object.entries(GUARD_PROBLEMS).map(([status, g]) => [
      g.schema,
      {
        allOf: [{ $ref: '#/components/schemas/Problem' }],
        properties: {
          type: { const: problemType(g.kind) },
          status: { const: Number(status) },
          ...(g.kind === 'forbidden' ? { requiredRoles: { type: 'array', items: { type: 'string' } } } : {}),
          ...(g.kind === 'too-many-requests' ? { retryAfter: { type: 'integer', minimum: 0 } } : {}),
        },
      },
    ]),
  );
}

/** The tags of the document, each route's `tag`, and what each groups. */
const TAG_DESCRIPTIONS: Record<RouteTag, string> = {
  orders: "A customer's orders: place (possibly through the event's waiting room), read, cancel, queue place",
  sagas: 'The sagas behind the orders, their live streams (SSE) and the machine definitions they run on',
  inventory: "An event's ticket types, stock and waiting-room limit (organizers)",
  ops: 'Operator tools: overview, stuck sagas, repairs (retry, compensate) and dead letters',
  console: 'The operator console: server-rendered HTML pages',
  meta: 'Health, this document and Swagger UI',
};

/** The OpenAPI 3.1 document of `routes`: the one route table (src/routes.ts ROUTE_TABLE). */
export function openApiDocument(routes: readonly RouteDoc[]): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const r of routes) {
    const parameters: Schema[] = [
      ...Object.entries(r.params ?? {}).map(([name, { pattern }]) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string', pattern },
      })),
      ...queryParameters(r.query),
      ...(r.headers ?? []).map((h) => HEADER_PARAMS[h]),
      CORRELATION,
    ];
    const responses: Record<string, Schema> = {};
    for (const [status, media] of Object.entries(r.ok)) {
      responses[status] = {
        // Health's DOWN report is an answer, not an error: the only non-2xx status in `ok`.
        description: Number(status) >= 300 ? 'DOWN: a required dependency fails (the report says which)' : 'success',
        headers: {
          'X-Correlation-Id': { schema: { type: 'string' } },
          // Set on an Idempotency-Key replay (src/api/routes/orders.ts), absent on a first answer.
          ...(r.headers?.includes('Idempotency-Key')
            ? { 'Idempotent-Replayed': { description: 'true on a replay of the key', schema: { const: 'true' } } }
            : {}),
        },
        content: content(media),
      };
    }
    // Every request passes the JSON body parser (413, 415: a body is refused on any route) and the
    // rate limiter (429, per principal, or per IP without a token); a protected route also answers
    // 401 (no or a refused token), 403 (a token without its role) and 503 (the token issuer's keys
    // cannot be fetched: src/http/auth/authenticate.ts). Seen on live traffic by the contract check.
    const guards = r.roles.length > 0 ? [401, 403, 413, 415, 429, 503] : [413, 415, 429];
    // A console page loaded by a browser (Accept: text/html) without a valid token is sent to sign in.
    if (r.roles.length > 0 && Object.values(r.ok).includes('html'))
      responses['303'] = {
        description: 'A page load (Accept: text/html) without a valid token: sent to sign in',
        headers: { Location: { description: '/console/login', schema: { type: 'string' } } },
        content: content('html'),
      };
    for (const status of [...new Set([...r.problems, ...guards, 405, 500])].sort()) {
      const guard = GUARD_PROBLEMS[status];
      responses[String(status)] = guard
        ? {
            description: `${PROBLEM_TYPES[guard.kind].title} (${problemType(guard.kind)})${r.limiter === 'orders' && status === 429 ? '; POST /orders also has a per-customer limit per minute (RATE_LIMIT_ORDERS_PER_MINUTE)' : ''}`,
            headers: guard.headers,
            content: { 'application/problem+json': { schema: { $ref: `#/components/schemas/${guard.schema}` } } },
          }
        : {
            description: problemTitle(status),
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          };
    }
    const operation: Schema = {
      ...(r.roles.length > 0
        ? {
            security: [{ bearer: [] }],
            description: `Needs a bearer token with the role ${r.roles.join(' or ')}.`,
            'x-roles': [...r.roles],
          }
        : { security: [], description: 'Public: served without a token.', 'x-roles': [] }),
      operationId: `${r.method}${openApiPath(r.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: r.summary,
      tags: [r.tag],
      parameters,
      responses,
    };
    if (r.body)
      operation.requestBody = { required: !r.bodyOptional, content: { 'application/json': { schema: r.body } } };
    (paths[openApiPath(r.path)] ??= {})[r.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'EventTicket',
      version: `machine ${ORDER_SAGA_VERSION}`,
      description:
        'Ticket orders as persisted XState sagas. Errors are RFC 9457 problem+json. The XState inspector feed is a WebSocket at /sagas/{orderId}/inspect (not an HTTP operation, so not listed; docs/api.md describes it).',
      license: { name: 'Proprietary (UNLICENSED): a private project, no licence granted' },
    },
    // No `jsonSchemaDialect`: 3.1's default (the OAS base dialect, JSON Schema 2020-12) is the one
    // meant, and Swagger UI shows a warning banner for any other value (swagger-ui#8491).
    servers: [{ url: '/', description: 'The instance serving this document' }],
    tags: Object.entries(TAG_DESCRIPTIONS).map(([name, description]) => ({ name, description })),
    paths: withSseEvents(paths),
    components: {
      schemas: { Problem: PROBLEM_SCHEMA, ...guardProblemSchemas(), ...RESPONSE_SCHEMAS, ...SSE_SCHEMAS },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "A JWT (asymmetric algorithms only, verified against the configured key or JWKS, issuer and audience) whose `roles` claim names the caller's roles: customer, organizer, operator, operator-repair (docs/security.md).",
        },
      },
    },
  };
}
