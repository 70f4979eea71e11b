/**
 * The one route table (src/routes.ts ROUTE_TABLE) and what is derived from it (src/http/route.ts):
 * each route declared once, each path parameter declared, the 405 table's Allow per path, and the
 * requests served without a token, the headers a handler is given. Pure: no service is started.
 */
import { ASSETS_PREFIX } from '../../src/http/assets';
import express from 'express';
import request from 'supertest';
import {
  allowedMethods,
  bindRoutes,
  mountRoutes,
  pathPattern,
  publicRequests,
  routeOf,
  type RouteInput,
} from '../../src/http/route';
import { ROUTE_TABLE } from '../../src/routes';

it('declares each method and path once, and each :param of a path with its pattern', () => {
  const keys = ROUTE_TABLE.map((r) => `${r.method} ${r.path}`);
  expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  for (const r of ROUTE_TABLE) {
    const inPath = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]).sort();
    expect({ route: `${r.method} ${r.path}`, params: Object.keys(r.params ?? {}).sort() }).toEqual({
      route: `${r.method} ${r.path}`,
      params: inPath,
    });
  }
});

it("answers 405 with the methods of the path's own declarations, a literal path before a :param one", () => {
  const allow = (path: string) => allowedMethods(ROUTE_TABLE).find((r) => r.pattern.test(path))?.allow;
  expect(allow('/orders')).toBe('GET, POST');
  expect(allow('/ops/dlq/redrive')).toBe('POST');
  expect(allow('/ops/dlq/some-id')).toBe('DELETE');
  expect(allow('/sagas/stream')).toBe('GET');
  expect(allow('/events/e-1/inventory')).toBe('GET, PUT');
  // One spelling: other spellings match no declared path (they are 404s).
  expect(allow('/orders/')).toBeUndefined();
  expect(allow('/ORDERS')).toBeUndefined();
  expect(pathPattern('/openapi.json').test('/openapiXjson')).toBe(false);
});

it('serves without a token exactly the GET/HEAD of the routes declared with no roles, and the static assets', () => {
  const isPublic = publicRequests(ROUTE_TABLE, [ASSETS_PREFIX]);
  const declared = ROUTE_TABLE.filter((r) => r.roles.length === 0).map((r) => `${r.method} ${r.path}`);
  expect(declared.sort()).toEqual([
    'get /actuator/health',
    'get /console/login',
    'get /docs',
    'get /favicon.ico',
    'get /openapi.json',
  ]);
  expect(isPublic('GET', '/actuator/health')).toBe(true);
  expect(isPublic('HEAD', '/docs')).toBe(true);
  expect(isPublic('POST', '/openapi.json')).toBe(false);
  expect(isPublic('GET', '/console')).toBe(false);
  expect(isPublic('GET', `${ASSETS_PREFIX}/console.js`)).toBe(true);
  expect(isPublic('GET', `${ASSETS_PREFIX}/../console.js`)).toBe(false);
  expect(isPublic('DELETE', `${ASSETS_PREFIX}/console.js`)).toBe(false);
});

it('gives a handler the request headers its route declares, and no other', async () => {
  const seen: Array<RouteInput['headers']> = [];
  const route = routeOf<undefined>();
  const app = express();
  app.use(
    mountRoutes([
      {
        routes: bindRoutes(
          [
            route({
              method: 'post',
              path: '/probe',
              roles: [],
              summary: 'probe',
              tag: 'meta',
              query: { type: 'object', additionalProperties: false },
              headers: ['If-Match'],
              ok: { 200: 'json' },
              problems: [],
              handle: (_deps, input, _req, res) => {
                seen.push(input.headers);
                res.json({});
              },
            }),
          ],
          undefined,
        ),
      },
    ]),
  );
  await request(app).post('/probe').set('If-Match', '"3"').set('Idempotency-Key', 'k-1').expect(200);
  await request(app).post('/probe').expect(200);
  // The document lists If-Match for this route, not Idempotency-Key: the handler cannot read the latter.
  expect(seen).toEqual([{ 'If-Match': '"3"' }, {}]);
});
