/**
 * The contract check (src/api/openapi-contract.ts) catches what the document does not describe:
 * routes broken on purpose — an undocumented status, a body missing a required field, an
 * undocumented content type — are reported, while a documented answer is not. Once through the
 * checker alone, once through createApp with OPENAPI_CONTRACT_LOG, as the whole suite runs it
 * (test/global-setup.ts, test/global-teardown.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import type { AppDeps } from '../../src/api/app';
import { createApp, ROUTE_TABLE } from '../../src/routes';
import { openApiDocument } from '../../src/api/openapi';
import { ContractChecker, contractCheck, type ContractObservation } from '../../src/api/openapi-contract';
import { closeRedis, createRedis, type RedisClient } from '../../src/cache/redis';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';
import { TEST_AUTH_ENV } from '../support/auth';
import { summarizeContractLog } from '../support/contract';
import { REDIS_URL, uniqueId } from './harness';

const ORDER_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const doc = openApiDocument(ROUTE_TABLE);

describe('the checker alone, over routes broken on purpose', () => {
  const seen: ContractObservation[] = [];
  const app = express();
  app.use(contractCheck(new ContractChecker(doc), (o) => seen.push(o)));
  // Documented: 200, 400, 401, 403, 404, 405, 429, 500. Not 418.
  app.get('/orders/:orderId', (_req, res) => {
    res.status(418).type('application/problem+json').send({ type: 'about:blank', title: 'teapot', status: 418 });
  });
  // Documented 202: OrderPlaceAnswer; PENDING needs orderNumber, eventName, sagaState and links.
  app.post('/orders', (_req, res) => {
    res.status(202).json({ orderId: ORDER_ID, status: 'PENDING', links: {} });
  });
  // Documented 200: application/json.
  app.get('/actuator/health', (_req, res) => {
    res.status(200).type('text/plain').send('UP');
  });
  // No operation: the document has no PUT /orders (the service answers it 405).
  app.put('/orders', (_req, res) => {
    res.status(202).json({});
  });
  // As documented: a problem+json 404.
  app.get('/orders/:orderId/queue', (_req, res) => {
    res.status(404).type('application/problem+json').send({
      type: 'https://eventticket.dev/problems/not-found',
      title: 'Not Found',
      status: 404,
      detail: 'no such order',
    });
  });

  // An event stream: a documented `step` with its data, a `step` missing fields, an undocumented event.
  app.get('/sagas/:orderId/stream', (req, res) => {
    const step = {
      version: 2,
      eventType: 'SEATS_RESERVED',
      fromState: 'reserving',
      toState: 'awaitingPayment',
      timestamp: '2026-12-06T04:00:00.000Z',
      actor: null,
      saga: { state: 'awaitingPayment', status: 'PENDING', version: 2 },
    };
    res.status(200).type('text/event-stream');
    res.write('retry: 1000\n\n: keep-alive\n\n');
    res.write(`id: 2\nevent: step\ndata: ${JSON.stringify(step)}\n\n`);
    if (req.query.broken !== undefined) {
      res.write(`id: 3\nevent: step\ndata: ${JSON.stringify({ version: 3 })}\n\n`);
      res.write('event: teapot\ndata: {}\n\n');
    }
    res.end();
  });

  const last = () => seen[seen.length - 1];

  it('reports a status the operation does not list', async () => {
    await request(app).get(`/orders/${ORDER_ID}`).expect(418);
    expect(last()).toMatchObject({ operation: 'GET /orders/{orderId}', status: 418 });
    expect(last().violations).toEqual([
      expect.stringMatching(/^GET \/orders\/\{orderId\} 418: status 418 is not documented/),
    ]);
  });

  it('reports a body that breaks its schema (a required field missing)', async () => {
    await request(app).post('/orders').send({}).expect(202);
    expect(last().operation).toBe('POST /orders');
    expect(last().violations).toEqual([
      expect.stringMatching(/POST \/orders 202: the body breaks its schema: .*orderNumber/),
    ]);
  });

  it('reports a content type the status does not list', async () => {
    await request(app).get('/actuator/health').expect(200);
    expect(last().violations).toEqual([
      expect.stringMatching(/GET \/actuator\/health 200: content type "text\/plain; charset=utf-8" is not documented/),
    ]);
  });

  it("checks a stream's events against its x-events: names and data", async () => {
    await request(app).get(`/sagas/${ORDER_ID}/stream`).expect(200);
    expect(last()).toMatchObject({ operation: 'GET /sagas/{orderId}/stream', status: 200, violations: [], events: 1 });
    await request(app).get(`/sagas/${ORDER_ID}/stream?broken`).expect(200);
    expect(last().violations).toEqual([
      expect.stringMatching(
        /GET \/sagas\/\{orderId\}\/stream 200: event step: its data breaks its schema: .*eventType/,
      ),
      expect.stringMatching(/GET \/sagas\/\{orderId\}\/stream 200: event "teapot" is not documented/),
    ]);
  });

  it('passes an answer as documented, and leaves alone what no operation covers', async () => {
    await request(app).get(`/orders/${ORDER_ID}/queue`).expect(404);
    expect(last()).toMatchObject({ operation: 'GET /orders/{orderId}/queue', status: 404, violations: [] });
    await request(app).put('/orders').send({}).expect(202);
    expect(last()).toMatchObject({ method: 'PUT', path: '/orders', violations: [] });
    expect(last().operation).toBeUndefined();
  });

  it('matches a concrete path before a templated one, whatever the order of the paths in the document', () => {
    // The table lists GET /sagas/{orderId} (the API's) before GET /sagas/stream (the console's).
    const keys = Object.keys(doc.paths as Record<string, unknown>);
    expect(keys.indexOf('/sagas/{orderId}')).toBeLessThan(keys.indexOf('/sagas/stream'));
    const checker = new ContractChecker(doc);
    expect(checker.operationOf('GET', '/sagas/stream')?.name).toBe('GET /sagas/stream');
    expect(checker.operationOf('GET', `/sagas/${ORDER_ID}`)?.name).toBe('GET /sagas/{orderId}');
  });
});

describe('createApp with OPENAPI_CONTRACT_LOG, as the suite runs it', () => {
  let redis: RedisClient;
  let dir: string;
  beforeAll(() => {
    redis = createRedis(REDIS_URL, createLogger('error'));
    dir = mkdtempSync(path.join(tmpdir(), 'contract-test-'));
  });
  afterAll(async () => {
    await closeRedis(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  /** createApp whose health check is `health`, logging to its own file (not the run's: its violations are wanted). */
  function appWithHealth(health: AppDeps['health'], file: string) {
    const config = loadConfig({ ...TEST_AUTH_ENV, RESOURCE_PREFIX: uniqueId('contract'), LOG_LEVEL: 'error' });
    const saved = process.env.OPENAPI_CONTRACT_LOG;
    process.env.OPENAPI_CONTRACT_LOG = file;
    try {
      return createApp({
        runtime: {} as never,
        store: {} as never,
        orders: {} as never,
        inventory: {} as never,
        cache: {} as never,
        health,
        logger: createLogger('error'),
        redis,
        config,
      });
    } finally {
      if (saved === undefined) delete process.env.OPENAPI_CONTRACT_LOG;
      else process.env.OPENAPI_CONTRACT_LOG = saved;
    }
  }

  it('logs a violation when a route answers a status its declaration lacks (418 from the health route)', async () => {
    const file = path.join(dir, 'teapot.jsonl');
    const app = appWithHealth(async () => {
      throw Object.assign(new Error('I am a teapot'), { status: 418, expose: true });
    }, file);
    await request(app).get('/actuator/health').expect(418);
    const summary = summarizeContractLog(file);
    expect(summary.pairs).toEqual(new Map([['GET /actuator/health 418', 1]]));
    expect(summary.violations).toEqual([
      expect.stringMatching(/^GET \/actuator\/health 418: status 418 is not documented/),
    ]);
  });

  it('logs a violation for a body missing a required field, and none for documented answers', async () => {
    const file = path.join(dir, 'no-components.jsonl');
    const app = appWithHealth(async () => ({ status: 'UP' }) as never, file);
    await request(app).get('/actuator/health').expect(200);
    await request(app).get('/openapi.json').expect(200);
    await request(app).get('/orders').expect(401);
    const summary = summarizeContractLog(file);
    expect([...summary.pairs.keys()].sort()).toEqual([
      'GET /actuator/health 200',
      'GET /openapi.json 200',
      'GET /orders 401',
    ]);
    expect(summary.violations).toEqual([
      expect.stringMatching(/^GET \/actuator\/health 200: the body breaks its schema: .*components/),
    ]);
  });
});

describe('the document itself', () => {
  it("declares no JSON Schema dialect but 3.1's default (Swagger UI banners any other: swagger-ui#8491)", () => {
    const dialect = (doc.jsonSchemaDialect as string | undefined) ?? 'https://spec.openapis.org/oas/3.1/dialect/base';
    expect(dialect).toBe('https://spec.openapis.org/oas/3.1/dialect/base');
  });

  it('has servers, a license and a description for every tag it uses (Redocly recommended)', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info).toMatchObject({ license: { name: expect.any(String) } });
    const tags = doc.tags as Array<{ name: string; description?: string }>;
    const used = new Set(
      Object.values(doc.paths as Record<string, Record<string, { tags: string[] }>>).flatMap((item) =>
        Object.values(item).flatMap((op) => op.tags),
      ),
    );
    expect(tags.map((t) => t.name).sort()).toEqual([...used].sort());
    for (const t of tags) expect(t.description).toMatch(/\w/);
  });
});
