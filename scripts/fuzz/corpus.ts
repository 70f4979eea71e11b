/**
 * The hostile corpus (fast-check arbitraries): HTTP requests against every route as every kind of
 * caller, and messages for every queue. Most inputs are wrong in at least one way; some are valid
 * on purpose, so the 2xx paths are exercised too (the HTTP runner re-baselines after them).
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { ORDER_SAGA_VERSION } from '../../machines/order-saga';
import { ROUTE_TABLE as API_ROUTES } from '../../src/routes';
import { spellingsOf } from './path-spellings';

/** What the generators may refer to: real ids, and a token for every kind of caller. */
export interface CorpusContext {
  eventId: string;
  /** An order of `customerSub`. */
  orderId: string;
  customerSub: string;
  /**
   * Valid tokens by identity, and hostile ones (expired, wrong audience, wrong issuer, wrong key, alg none, garbage).
   */
  tokens: Record<string, string>;
}

export interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** The generator's label of what it did (for the report). */
  label: string;
  /** Another spelling of a route's path (./path-spellings.ts): it must be refused, never served. */
  spelled?: boolean;
}

const UUID = fc.uuid().map((u) => u.toLowerCase());
const BAD_ESCAPES = ['%zz', '%', '%E', '%ED%A0%80', '%C0%AF', '%FF', '%00', '%2e%2e', '..', '%E0%A4%A', '%uD800'];

/** Strings that are wrong as ids: empty, long, odd Unicode, injection-looking, bad escapes. */
function badIdArb(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...BAD_ESCAPES),
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
    fc
      .constantFrom("x' OR 1=1", '<script>', '${jndi:x}', 'a'.repeat(300), 'null', 'undefined', '-1', '0x10')
      .map(encodeURIComponent),
  );
}

/** Values that are wrong in most places: odd numbers, odd Unicode (lone surrogates), prototype keys, depth. */
export function hostileValueArb(): fc.Arbitrary<unknown> {
  const lone = fc.constantFrom('\ud800', '\udc00', 'a\ud83d', '\udfff\ud800', 'ok\ud800ok');
  return fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    lone,
    fc.constantFrom('\u0000', '\u202e', '\ufeff', '\uffff', '\u2028', ' ', '', 'x'.repeat(2000)),
    fc.constantFrom(1e308, -1e308, 5e-324, -0, 0.1, -1, 2 ** 53 + 2, 1.5, 0, 10_000_001, Number.MAX_SAFE_INTEGER),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 5 }),
    fc.constant({ __proto__: { admin: true } }),
    fc.constantFrom(JSON.parse('{"__proto__":{"polluted":1}}') as unknown, {
      constructor: { prototype: { polluted: 1 } },
    }),
    fc.jsonValue({ maxDepth: 3 }),
  );
}

/** A valid body for a route, when it has one. */
function validBody(route: string, ctx: CorpusContext): Record<string, unknown> | undefined {
  switch (route) {
    case 'POST /orders':
      return { eventId: ctx.eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken: 'tok_visa' };
    case 'PUT /events/{eventId}/inventory':
      return { eventName: 'Fuzz', ticketTypes: [{ ticketType: 'GA', totalQuantity: 1000, price: 1, currency: 'EUR' }] };
    case 'POST /orders/{orderId}/cancel':
    case 'POST /ops/sagas/{orderId}/retry':
    case 'POST /ops/sagas/{orderId}/compensate':
      return { reason: 'fuzz' };
    case 'POST /ops/dlq/redrive':
      return { ids: ['00000000-0000-4000-8000-000000000000'], reason: 'fuzz' };
    case 'PUT /events/{eventId}/admission':
      return { maxActiveOrders: 0 };
    default:
      return undefined;
  }
}

const ROUTES = [
  'GET /actuator/health',
  'POST /orders',
  'GET /orders',
  'GET /orders/{orderId}',
  'POST /orders/{orderId}/cancel',
  'GET /sagas',
  'GET /sagas/{orderId}',
  'GET /machines/order-saga',
  'GET /events/{eventId}/inventory',
  'PUT /events/{eventId}/inventory',
  'GET /ops/overview',
  'GET /ops/sagas/stuck',
  'POST /ops/sagas/{orderId}/retry',
  'POST /ops/sagas/{orderId}/compensate',
  'GET /ops/dlq',
  'POST /ops/dlq/redrive',
  'DELETE /ops/dlq/{messageId}',
  'GET /{random}',
] as const;

/** A body: absent, valid, a valid one with one field spoiled, random JSON, or raw hostile bytes. */
function bodyArb(route: string, ctx: CorpusContext): fc.Arbitrary<{ text?: string; label: string }> {
  const valid = validBody(route, ctx);
  const n = fc.integer({ min: 1, max: 6000 });
  const raws = fc.oneof(
    fc.constantFrom(
      '{"reason":"\\ud800"}',
      '{"eventId":"e\\udc00","items":[],"paymentToken":"t"}',
      '{"__proto__":{"isAdmin":true},"reason":"x"}',
      '{"constructor":{"prototype":{"isAdmin":true}}}',
      '{"reason":"a\\u0000b"}',
      '{"items":[{"ticketType":"GA","quantity":1e999}]}',
      '{"items":[{"ticketType":"GA","quantity":123456789012345678901234567890}]}',
      '{"reason":"x",}',
      '{"reason":',
      'null',
      '[]',
      '"string"',
      '{"a":1,"a":2}',
      '\ufeff{"reason":"bom"}',
    ),
    n.map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    n.map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    fc.string({ maxLength: 200 }),
    fc.integer({ min: 17_000, max: 40_000 }).map((size) => JSON.stringify({ reason: 'x'.repeat(size) })),
  );
  const options: Array<fc.Arbitrary<{ text?: string; label: string }>> = [
    fc.constant({ label: 'no body' }),
    raws.map((text) => ({ text, label: 'raw hostile body' })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: JSON.stringify(v), label: 'random JSON' })),
  ];
  if (valid) {
    options.push(fc.constant({ text: JSON.stringify(valid), label: 'valid body' }));
    options.push(
      fc.tuple(fc.constantFrom(...Object.keys(valid), 'extra', '__proto__'), hostileValueArb()).map(([key, value]) => {
        const spoiled: Record<string, unknown> = { ...valid };
        if (key === '__proto__') Object.defineProperty(spoiled, '__proto__', { value, enumerable: true });
        else spoiled[key] = value;
        return { text: JSON.stringify(spoiled), label: `valid body, ${key} spoiled` };
      }),
    );
  }
  return fc.oneof(...options);
}

function pathArb(route: string, ctx: CorpusContext): fc.Arbitrary<string> {
  const target = route.split(' ')[1];
  const id = (own: string) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(own) },
      { weight: 2, arbitrary: UUID },
      { weight: 3, arbitrary: badIdArb() },
    );
  if (target === '/{random}')
    return fc.array(badIdArb(), { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
  const orderId = target.includes('{orderId}') ? id(ctx.orderId) : fc.constant('');
  const eventId = target.includes('{eventId}') ? id(ctx.eventId) : fc.constant('');
  const messageId = target.includes('{messageId}') ? id('00000000-0000-4000-8000-000000000000') : fc.constant('');
  return fc
    .tuple(orderId, eventId, messageId)
    .map(([o, e, m]) => target.replace('{orderId}', o).replace('{eventId}', e).replace('{messageId}', m));
}

function queryArb(ctx: CorpusContext): fc.Arbitrary<string> {
  const key = fc.constantFrom(
    'customerId',
    'limit',
    'cursor',
    'status',
    'reason',
    '__proto__',
    'constructor',
    'customerId[]',
    'x',
  );
  const value = fc.oneof(
    fc.constantFrom(ctx.customerSub, 'PENDING', '0', '101', '-1', '1e3', 'abc', '', 'bm90LWpzb24', ...BAD_ESCAPES),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.tuple(key, value), { minLength: 1, maxLength: 4 })
        .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
    },
  );
}

/** Header values Node will send (visible Latin-1, space, tab). */
const headerText = fc.string({
  unit: fc
    .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
    .map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

/** Present in about one input in `rarity`. */
function rarely<T>(arb: fc.Arbitrary<T>, rarity = 8): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: rarity - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

function headersArb(ctx: CorpusContext): fc.Arbitrary<{ headers: Record<string, string | string[]>; label: string }> {
  const identities = Object.keys(ctx.tokens);
  const authorization = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(...identities).map((id) => ({ value: `Bearer ${ctx.tokens[id]}`, label: id })),
    },
    { weight: 1, arbitrary: fc.constant({ value: undefined as string | undefined, label: 'anonymous' }) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          'Basic YTpi',
          'Bearer ',
          'Bearer x.y.z',
          `Bearer ${'a'.repeat(9000)}.b.c`,
          'bearer lower.case.scheme',
          'Token abc',
        )
        .map((value) => ({ value: value, label: 'bad scheme' })),
    },
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/problem+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    '',
  );
  const extras = fc.record({
    idempotencyKey: rarely(fc.oneof(fc.constantFrom('k-1', 'k'.repeat(129), ' lead', 'ünï'), headerText), 4),
    correlationId: rarely(headerText, 4),
    repeated: rarely(
      fc.constantFrom('authorization', 'idempotency-key', 'x-operator-id', 'content-type', 'x-correlation-id'),
      8,
    ),
    operatorId: rarely(fc.constantFrom('ann', 'ann, bob', 'root'), 6),
    encoding: rarely(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'gzip, gzip'), 10),
    huge: rarely(fc.constant('h'.repeat(20_000)), 40),
  });
  return fc.tuple(authorization, contentType, extras).map(([auth, type, extra]) => {
    const headers: Record<string, string | string[]> = {};
    if (auth.value !== undefined) headers.authorization = auth.value;
    if (type) headers['content-type'] = type;
    if (extra.idempotencyKey !== undefined) headers['idempotency-key'] = extra.idempotencyKey;
    if (extra.correlationId !== undefined) headers['x-correlation-id'] = extra.correlationId;
    if (extra.operatorId !== undefined) headers['x-operator-id'] = extra.operatorId;
    if (extra.encoding !== undefined) headers['content-encoding'] = extra.encoding;
    if (extra.huge !== undefined) headers['x-huge'] = extra.huge;
    if (extra.repeated !== undefined) {
      const current = headers[extra.repeated];
      const one = typeof current === 'string' ? current : 'x';
      headers[extra.repeated] = [one, one];
    }
    return { headers, label: auth.label };
  });
}

/** Every route the API serves (src/api/openapi.ts), as `METHOD /path/{param}`. */
const ALL_ROUTES = API_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);

/**
 * Another spelling of any route's path (issue 22, kind 2), with a valid body and a valid token:
 * nothing but the spelling is wrong, so a 2xx means the spelling reached a handler.
 */
function spelledArb(ctx: CorpusContext): fc.Arbitrary<HostileRequest> {
  const fill = (name: string): string =>
    name === 'orderId'
      ? ctx.orderId
      : name === 'eventId'
        ? ctx.eventId
        : name === 'version'
          ? ORDER_SAGA_VERSION
          : '00000000-0000-4000-8000-000000000000';
  const identities = ['customer', 'organizer', 'operator', 'operator-repair', 'every role'].filter(
    (id) => ctx.tokens[id] !== undefined,
  );
  return fc.constantFrom(...ALL_ROUTES).chain((route) => {
    const [method, target] = route.split(' ') as [string, string];
    const valid = validBody(route, ctx);
    return fc
      .record({
        path: fc.constantFrom(...spellingsOf(target.replace(/\{([A-Za-z]+)\}/g, ':$1'), fill)),
        identity: fc.constantFrom(...identities),
        head: fc.boolean(),
      })
      .map(({ path, identity, head }) => ({
        method: method === 'GET' && head ? 'HEAD' : method,
        path,
        headers: {
          authorization: `Bearer ${ctx.tokens[identity]}`,
          ...(valid ? { 'content-type': 'application/json' } : {}),
        },
        body: valid ? Buffer.from(JSON.stringify(valid), 'utf8') : undefined,
        label: `${route} spelled ${path} as ${identity}`,
        spelled: true,
      }));
  });
}

/** One hostile (or occasionally valid) HTTP request; one in ten is another spelling of a route's path. */
export function requestArb(ctx: CorpusContext): fc.Arbitrary<HostileRequest> {
  return fc.oneof({ weight: 9, arbitrary: routeRequestArb(ctx) }, { weight: 1, arbitrary: spelledArb(ctx) });
}

function routeRequestArb(ctx: CorpusContext): fc.Arbitrary<HostileRequest> {
  return fc.constantFrom(...ROUTES).chain((route) =>
    fc
      .record({
        method: fc.oneof(
          { weight: 5, arbitrary: fc.constant(route.split(' ')[0]) },
          { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') },
        ),
        path: pathArb(route, ctx),
        query: queryArb(ctx),
        body: bodyArb(route, ctx),
        head: headersArb(ctx),
        gzip: fc.constantFrom('none', 'none', 'none', 'none', 'valid', 'truncated', 'garbage'),
      })
      .map(({ method, path, query, body, head, gzip }) => {
        const headers = { ...head.headers };
        let payload = body.text === undefined ? undefined : Buffer.from(body.text, 'utf8');
        if (payload && gzip !== 'none') {
          const zipped = gzipSync(payload);
          payload =
            gzip === 'valid'
              ? zipped
              : gzip === 'truncated'
                ? zipped.subarray(0, Math.max(1, zipped.length - 9))
                : Buffer.from('not gzip at all');
          headers['content-encoding'] = 'gzip';
        }
        return {
          method,
          path: `${path}${query}`,
          headers,
          body: payload,
          label: `${route} as ${head.label}, ${body.label}${gzip === 'none' ? '' : `, gzip ${gzip}`}`,
        };
      }),
  );
}

/** One bad message for a queue: its body, attributes and (FIFO) group id. */
export interface HostileMessage {
  body: string;
  attributes: Record<string, string>;
  groupId: string;
  label: string;
}

/**
 * Messages no consumer may act on: not JSON, JSON of the wrong shape, envelopes with wrong types,
 * unknown kinds or lone surrogates, commands about orders that do not exist; odd attributes and
 * group ids. Every one is wrong by construction.
 */
export function messageArb(): fc.Arbitrary<HostileMessage> {
  const envelope = fc.record(
    {
      type: fc.constantFrom('saga-event', 'command', 'timer', 'bogus', 42, null),
      eventId: hostileValueArb(),
      orderId: fc.oneof(fc.uuid(), hostileValueArb()),
      correlationId: hostileValueArb(),
      event: fc.oneof(
        fc.record({ type: fc.constantFrom('SEATS_RESERVED', 'PAYMENT_CAPTURED', 'NOPE') }),
        hostileValueArb(),
      ),
      command: fc.oneof(
        fc.record({ kind: fc.constantFrom('ReserveSeats', 'CapturePayment', 'Explode'), orderId: fc.uuid() }),
        hostileValueArb(),
      ),
    },
    { requiredKeys: ['type'] },
  );
  const body = fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 100 }).map((text) => ({ text, label: 'random text' })),
      fc
        .constantFrom('{', 'null', '[]', '""', '{"type":"saga-event"}', '{"__proto__":{"x":1}}')
        .map((text) => ({ text, label: 'raw' })),
      fc.jsonValue({ maxDepth: 3 }).map((v) => ({ text: JSON.stringify(v) ?? 'null', label: 'random JSON' })),
      envelope.map((e) => ({ text: JSON.stringify(e), label: 'spoiled envelope' })),
    )
    .filter((b) => b.text.length > 0);
  const attributes = fc.dictionary(
    fc.constantFrom('correlationId', 'kind', 'attempt', 'x-weird'),
    fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 40,
    }),
    { maxKeys: 3 },
  );
  const groupId = fc.oneof(
    fc.uuid(),
    fc.string({
      unit: fc.constantFrom(...'abcXYZ019-_.!#$%&()*+,/:;<=>?@[]^`{|}~'.split('')),
      minLength: 1,
      maxLength: 128,
    }),
  );
  return fc
    .record({ body, attributes, groupId })
    .map(({ body: b, attributes: a, groupId: g }) => ({ body: b.text, attributes: a, groupId: g, label: b.label }));
}
