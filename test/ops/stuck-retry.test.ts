/**
 * A saga nobody moves is listed as stuck; an operator retry re-sends its pending command (really
 * on the queue), is recorded in its history with who and why, and once workers run the saga
 * completes and leaves the listing. API only at first: no worker consumes anything.
 */
import { randomUUID } from 'node:crypto';
import type { Workers } from '../../src/runtime/workers';
import { createCoreWorkers } from '../../src/service';
import { http, stuckSagas } from '../support/http';
import { as } from '../support/auth';
import { eventually, startTestService, type TestService } from '../support/service';
import {
  expectContiguous,
  inventoryOf,
  newEvent,
  placeOrder,
  receiveUntil,
  release,
  sagaOf,
  type Problem,
} from './helpers';

const STUCK_AFTER_MS = 1500;
let service: TestService;
let workers: Workers | undefined;

interface StuckItem {
  orderId: string;
  state: string;
  status: string;
  stuckForMs: number;
  stateEnteredAt: string;
  updatedAt: string;
  pendingCommands: string[];
  reason: string;
}

beforeAll(async () => {
  service = await startTestService(
    { STUCK_AFTER_MS: String(STUCK_AFTER_MS) },
    { inProcessWorkers: false, label: 'os' },
  );
});
afterAll(async () => {
  await workers?.stop();
  await service?.stop();
});

const stuck = () => stuckSagas<{ items: StuckItem[]; scanned: number }>(service.baseUrl);
const stuckEntry = async (orderId: string) => (await stuck()).items.find((i) => i.orderId === orderId);

it('a saga that does not move is listed as stuck; retry re-sends its command, recorded; workers then complete it', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const placedAt = Date.now();
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success', 2);
  if (Date.now() - placedAt < STUCK_AFTER_MS) expect(await stuckEntry(orderId)).toBeUndefined();

  const entry = await eventually(
    () => stuckEntry(orderId),
    (e) => e !== undefined,
    15000,
  );
  expect(entry).toMatchObject({ state: 'reserving', status: 'PENDING', pendingCommands: ['ReserveSeats'] });
  expect(entry!.stuckForMs).toBeGreaterThanOrEqual(0);
  expect(entry!.reason).toMatch(/no progress in reserving/);
  const before = await sagaOf(service.baseUrl, orderId);
  expect(entry!.stateEnteredAt).toBe(before.stateEnteredAt);

  // Who (a token with operator-repair) and why are required.
  const anonymous = await http<Problem>(service.baseUrl, 'POST', `/ops/sagas/${orderId}/retry`, {
    reason: 'inventory worker was down',
  });
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
  expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="eventticket"');
  const readOnly = await http<Problem>(
    service.baseUrl,
    'POST',
    `/ops/sagas/${orderId}/retry`,
    { reason: 'x' },
    as.operator('carl'),
  );
  expect(readOnly.status).toBe(403);
  const noReason = await http<Problem>(service.baseUrl, 'POST', `/ops/sagas/${orderId}/retry`, {}, as.repair('alice'));
  expect(noReason.status).toBe(400);
  expect(noReason.body.errors).toEqual([{ field: '/reason', message: 'is required' }]);
  expect((await sagaOf(service.baseUrl, orderId)).version).toBe(1);

  const retry = await http<{ orderId: string; state: string; version: number; resent: string[] }>(
    service.baseUrl,
    'POST',
    `/ops/sagas/${orderId}/retry`,
    { reason: 'inventory worker was down' },
    as.repair('alice'),
  );
  expect(retry.status).toBe(202);
  expect(retry.body).toMatchObject({ orderId, state: 'reserving', version: 2, resent: ['ReserveSeats'] });

  // Recorded: who, why, what; versions contiguous; the saga itself unchanged.
  const after = await sagaOf(service.baseUrl, orderId);
  expectContiguous(after.history);
  expect(after.history.map((h) => h.eventType)).toEqual(['ORDER_PLACED', 'OPERATOR_RETRY']);
  expect(after.history[1]).toMatchObject({
    actor: 'operator:alice',
    fromState: 'reserving',
    toState: 'reserving',
    payload: { by: 'operator:alice', reason: 'inventory worker was down', resent: ['ReserveSeats'] },
  });
  expect(after).toMatchObject({ state: 'reserving', version: 2, stateEnteredAt: before.stateEnteredAt });
  // It has still not moved: still stuck.
  expect(await stuckEntry(orderId)).toBeDefined();

  // The original ReserveSeats and the re-sent one are both on the real inventory queue.
  const queue = service.core.queues.inventory;
  const reserves = (ms: Awaited<ReturnType<typeof receiveUntil>>) =>
    ms.filter((m) => {
      const body = JSON.parse(m.Body ?? '{}') as { command?: { kind: string; orderId: string } };
      return body.command?.kind === 'ReserveSeats' && body.command.orderId === orderId;
    });
  const received = await receiveUntil(service.core.clients.sqs, queue, (ms) => reserves(ms).length >= 2);
  expect(reserves(received)).toHaveLength(2);
  await release(service.core.clients.sqs, queue, received);

  // Meanwhile another saga in reserving is compensated: remembered until the seats are reserved.
  const otherEvent = await newEvent(service.baseUrl, 4);
  const other = await placeOrder(service.baseUrl, otherEvent, 'tok_success', 3);
  const compensate = () =>
    http<Problem & { state: string }>(
      service.baseUrl,
      'POST',
      `/ops/sagas/${other}/compensate`,
      { reason: 'event cancelled' },
      as.repair('bob'),
    );
  const first = await compensate();
  expect(first.status).toBe(202);
  expect(first.body.state).toBe('reserving');
  const second = await compensate();
  expect(second.status).toBe(409);
  expect(second.body.detail).toMatch(/already has a compensation requested by operator:bob/);

  // Workers come back: the duplicate command is absorbed, the saga completes and is no longer stuck.
  workers = createCoreWorkers(service.core);
  workers.start();
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    30000,
  );
  const compensated = await eventually(
    () => sagaOf(service.baseUrl, other),
    (s) => s.state === 'cancelled',
    30000,
  );
  expect(compensated.context.outcome).toBe('compensated');
  expectContiguous(compensated.history);
  expect(compensated.history[1]).toMatchObject({
    eventType: 'OPERATOR_COMPENSATE',
    actor: 'operator:bob',
    fromState: 'reserving',
    toState: 'reserving',
    payload: { by: 'operator:bob', reason: 'event cancelled' },
  });
  expect(await inventoryOf(service.baseUrl, otherEvent)).toEqual([4, 0]);
  const done = await sagaOf(service.baseUrl, orderId);
  expectContiguous(done.history);
  expect(done.history.filter((h) => h.eventType === 'SEATS_RESERVED')).toHaveLength(1);
  expect(await inventoryOf(service.baseUrl, eventId)).toEqual([8, 2]);
  expect(await stuckEntry(orderId)).toBeUndefined();

  // Nothing to retry on an ended saga; unknown and malformed ids.
  const late = await http<Problem & { sagaState: string }>(
    service.baseUrl,
    'POST',
    `/ops/sagas/${orderId}/retry`,
    { reason: 'again' },
    as.repair('alice'),
  );
  expect(late.status).toBe(409);
  expect(late.body).toMatchObject({
    type: 'https://eventticket.dev/problems/saga-state-conflict',
    sagaState: 'completed',
  });
  expect(late.body.detail).toMatch(/nothing to retry/);
  const unknown = await http(
    service.baseUrl,
    'POST',
    `/ops/sagas/${randomUUID()}/retry`,
    { reason: 'x' },
    as.repair('alice'),
  );
  expect(unknown.status).toBe(404);
  const malformed = await http(
    service.baseUrl,
    'POST',
    '/ops/sagas/not-a-uuid/retry',
    { reason: 'x' },
    as.repair('alice'),
  );
  expect(malformed.status).toBe(400);
});

it('the listing refuses unknown query parameters and other methods', async () => {
  const bad = await http<Problem>(service.baseUrl, 'GET', '/ops/sagas/stuck?state=reserving', undefined, as.operator());
  expect(bad.status).toBe(400);
  const post = await http(service.baseUrl, 'POST', '/ops/sagas/stuck', {}, as.operator());
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET');
  const getRetry = await http(service.baseUrl, 'GET', `/ops/sagas/${randomUUID()}/retry`, undefined, as.operator());
  expect(getRetry.status).toBe(405);
  expect(getRetry.headers.get('allow')).toBe('POST');
});
