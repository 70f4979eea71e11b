/**
 * Operator actions with an Idempotency-Key: a repeated compensate or retry (a lost response, a
 * double click) is answered with what the first request got, 202 and `Idempotent-Replayed: true`,
 * though the saga has moved on since, and acts once.
 */
import { randomUUID } from 'node:crypto';
import { as } from '../support/auth';
import { http } from '../support/http';
import { eventually, startTestService, type TestService } from '../support/service';
import { newEvent, placeOrder, sagaOf } from './helpers';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ PAYMENT_SLOW_MS: '3000' }, { label: 'or' });
});
afterAll(async () => {
  await service?.stop();
});

const act = (orderId: string, action: 'compensate' | 'retry', reason: string, key?: string) =>
  http<{ orderId: string; state: string; version: number; compensationRequested?: boolean; type?: string }>(
    service.baseUrl,
    'POST',
    `/ops/sagas/${orderId}/${action}`,
    { reason },
    { ...as.repair('ann'), ...(key === undefined ? {} : { 'Idempotency-Key': key }) },
  );

it('a repeated compensate with the same key: 202 with the first answer, after the saga has ended; one OPERATOR_COMPENSATE step', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow', 1);
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    15000,
  );
  const key = `k-${randomUUID()}`;
  const first = await act(orderId, 'compensate', 'venue cancelled', key);
  expect(first.status).toBe(202);
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  const done = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'cancelled',
    30000,
  );

  const again = await act(orderId, 'compensate', 'venue cancelled', key);
  expect(again.status).toBe(202);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(again.body).toEqual(first.body);
  expect(done.history.filter((h) => h.eventType === 'OPERATOR_COMPENSATE')).toHaveLength(1);
  expect((await sagaOf(service.baseUrl, orderId)).history).toHaveLength(done.history.length);

  // Without the key it is a new request, which the ended saga refuses; the same key with another reason is a reuse.
  expect((await act(orderId, 'compensate', 'venue cancelled')).status).toBe(409);
  expect((await act(orderId, 'compensate', 'another reason', key)).status).toBe(422);
});

it('a repeated retry with the same key: 202 with the first answer, recorded once', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow', 1);
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    15000,
  );
  const key = `k-${randomUUID()}`;
  const first = await act(orderId, 'retry', 'payment looked slow', key);
  expect(first.status).toBe(202);
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    30000,
  );
  const again = await act(orderId, 'retry', 'payment looked slow', key);
  expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
  expect(again.body).toEqual(first.body);
  const saga = await sagaOf(service.baseUrl, orderId);
  expect(saga.history.filter((h) => h.eventType === 'OPERATOR_RETRY')).toHaveLength(1);
});
