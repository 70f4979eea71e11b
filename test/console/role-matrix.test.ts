/**
 * The console's role matrix: every console page, the saga streams (SSE) and the XState inspector
 * feed (WebSocket) × {anonymous, customer, another customer, organizer, operator,
 * operator-repair} → the status docs/security.md says (its console-matrix table), 0 mismatches.
 * The whole service over real HTTP and a real WebSocket client (ws), real emulator and Redis.
 * Every console route (src/console/room.ts CONSOLE_ROUTES) must have a row.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { CONSOLE_ROUTES } from '../../src/console/room';
import { allowedMethods } from '../../src/http/route';
import { bearer } from '../support/auth';
import { startTestService, type TestService } from '../support/service';
import { newEvent, placeOrder } from '../ops/helpers';

jest.setTimeout(180_000);

const IDENTITIES = ['anonymous', 'customer', 'another customer', 'organizer', 'operator', 'operator-repair'] as const;
type Identity = (typeof IDENTITIES)[number];
/** The customer of the order in the `{orderId}` rows (test/ops/helpers.ts placeOrder's). */
const CUSTOMER = 'c-ops';

const headersOf: Record<Identity, () => Record<string, string>> = {
  anonymous: () => ({}),
  customer: () => bearer('customer', CUSTOMER),
  'another customer': () => bearer('customer', 'c-someone-else'),
  organizer: () => bearer('organizer', 'org-cm'),
  operator: () => bearer('operator', 'op-cm'),
  'operator-repair': () => bearer('operator-repair', 'repair-cm'),
};

function readMatrix(): Map<string, Record<Identity, number>> {
  const text = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'security.md'), 'utf8');
  const block = /<!-- console-matrix:start -->([\s\S]*?)<!-- console-matrix:end -->/.exec(text);
  if (!block) throw new Error('docs/security.md has no console matrix');
  const matrix = new Map<string, Record<Identity, number>>();
  for (const row of block[1].trim().split('\n').slice(2)) {
    const cells = row
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const statuses = cells.slice(1).map(Number);
    if (statuses.length !== IDENTITIES.length || statuses.some((s) => !Number.isInteger(s)))
      throw new Error(`bad matrix row: ${row}`);
    matrix.set(
      cells[0].replace(/`/g, ''),
      Object.fromEntries(IDENTITIES.map((id, i) => [id, statuses[i]])) as Record<Identity, number>,
    );
  }
  return matrix;
}

let service: TestService;
let orderId: string;

beforeAll(async () => {
  service = await startTestService({}, { label: 'cm' });
  const eventId = await newEvent(service.baseUrl, 100);
  orderId = await placeOrder(service.baseUrl, eventId, 'tok_visa');
});
afterAll(async () => {
  await service?.stop();
});

/** The status of a GET; a stream (text/event-stream) is cut after its headers. */
function statusOf(target: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(service.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: target, headers }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

/** The status of a WebSocket upgrade: 101 when the feed opened, else the HTTP status it was refused with. */
function upgradeStatusOf(target: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${service.baseUrl.replace('http', 'ws')}${target}`, { headers });
    ws.on('upgrade', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    ws.on('error', (error) => reject(error));
  });
}

const requests: Record<string, (headers: Record<string, string>) => Promise<number>> = {
  'GET /console': (h) => statusOf('/console', h),
  'GET /console/sagas': (h) => statusOf('/console/sagas', h),
  'GET /console/sagas/{orderId}': (h) => statusOf(`/console/sagas/${orderId}`, h),
  'GET /console/machine': (h) => statusOf('/console/machine', h),
  'GET /console/dlq': (h) => statusOf('/console/dlq', h),
  'GET /console/login': (h) => statusOf('/console/login', h),
  'GET /favicon.ico': (h) => statusOf('/favicon.ico', h),
  'GET /console/inspect/{orderId}': (h) => statusOf(`/console/inspect/${orderId}`, h),
  'GET /console/assets/console.js': (h) => statusOf('/console/assets/console.js', h),
  'GET /sagas/stream': (h) => statusOf('/sagas/stream', h),
  'GET /sagas/{orderId}/stream': (h) => statusOf(`/sagas/${orderId}/stream`, h),
  'WS /sagas/{orderId}/inspect': (h) => upgradeStatusOf(`/sagas/${orderId}/inspect`, h),
};

it('every console route has a row, and every row a request', () => {
  const rows = [...readMatrix().keys()].map((r) => {
    const [method, target] = r.split(' ') as [string, string];
    return { method: method === 'WS' ? 'GET' : method, path: target.replace(/\{[^}]+\}/g, 'x') };
  });
  for (const route of allowedMethods(CONSOLE_ROUTES)) {
    const covered = rows.some((r) => route.allow.split(', ').includes(r.method) && route.pattern.test(r.path));
    expect({ route: String(route.pattern), covered }).toEqual({ route: String(route.pattern), covered: true });
  }
  expect([...readMatrix().keys()].sort()).toEqual(Object.keys(requests).sort());
});

it('every console route × identity answers as docs/security.md says: 0 mismatches', async () => {
  const mismatches: string[] = [];
  for (const [route, expected] of readMatrix()) {
    for (const identity of IDENTITIES) {
      const status = await requests[route](headersOf[identity]());
      if (status !== expected[identity])
        mismatches.push(`${route} as ${identity}: ${status}, expected ${expected[identity]}`);
    }
  }
  expect(mismatches).toEqual([]);
});

it('the inspector feed answers on its one spelling only: other spellings of its path are 404', async () => {
  const operator = headersOf.operator();
  const spellings = [
    `/SAGAS/${orderId}/inspect`,
    `/sagas/${orderId}/INSPECT`,
    `/sagas/${orderId}/inspect/`,
    `//sagas/${orderId}/inspect`,
    `/sagas/${orderId}/%69nspect`,
  ];
  const statuses = await Promise.all(spellings.map((p) => upgradeStatusOf(p, operator)));
  expect(Object.fromEntries(spellings.map((p, i) => [p, statuses[i]]))).toEqual(
    Object.fromEntries(spellings.map((p) => [p, 404])),
  );
  // The id is a parameter: either case names the same saga, as on the HTTP routes. (ws resolves dot segments itself.)
  expect(await upgradeStatusOf(`/sagas/${orderId}/inspect`, operator)).toBe(101);
  expect(await upgradeStatusOf(`/sagas/${orderId.toUpperCase()}/inspect`, operator)).toBe(101);
});
