/**
 * An operator forces the compensation path of a saga waiting on a slow payment: seats back,
 * charge voided or refunded, outcome 'compensated', the step recorded with who and why. Where the
 * machine cannot compensate the answer is a 409 problem that says why.
 */
import { randomUUID } from 'node:crypto';
import { readPayment } from '../../src/participants/records';
import { as } from '../support/auth';
import { http } from '../support/http';
import { eventually, startTestService, type TestService } from '../support/service';
import { expectContiguous, inventoryOf, newEvent, placeOrder, sagaOf, type Problem } from './helpers';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ PAYMENT_SLOW_MS: '3000' }, { label: 'oc' });
});
afterAll(async () => {
  await service?.stop();
});

const compensate = (orderId: string, body: unknown, operator?: string) =>
  http<Problem & { state: string; compensationRequested: boolean; sagaState: string }>(
    service.baseUrl,
    'POST',
    `/ops/sagas/${orderId}/compensate`,
    body,
    operator === undefined ? {} : as.repair(operator),
  );

it('compensating a saga in awaitingPayment: cancelled as compensated, seats back, recorded with who and why', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow', 2);
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    15000,
  );
  expect(await inventoryOf(service.baseUrl, eventId)).toEqual([8, 2]);

  const anonymous = await compensate(orderId, { reason: 'fraud suspected' });
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.type).toBe('https://eventticket.dev/problems/unauthorized');
  const extra = await compensate(orderId, { reason: 'fraud suspected', force: true }, 'bob');
  expect(extra.status).toBe(400);

  const res = await compensate(orderId, { reason: 'fraud suspected' }, 'bob');
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({
    orderId,
    state: 'releasingSeats',
    status: 'PROCESSING',
    compensationRequested: true,
  });

  const done = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'cancelled',
    30000,
  );
  expect(done.status).toBe('CANCELLED');
  expect(done.context.outcome).toBe('compensated');
  expectContiguous(done.history);
  const step = done.history.find((h) => h.eventType === 'OPERATOR_COMPENSATE');
  expect(step).toMatchObject({
    actor: 'operator:bob',
    fromState: 'awaitingPayment',
    toState: 'releasingSeats',
    payload: { by: 'operator:bob', reason: 'fraud suspected' },
  });
  expect(await inventoryOf(service.baseUrl, eventId)).toEqual([10, 0]);
  // Either the void beat the slow charge, or the charge captured and was refunded in full.
  const payment = await readPayment(service.core.participantDeps, orderId);
  if (payment?.status === 'REFUNDED') expect(payment.refundedAmountMinor).toBe(5000);
  else expect(payment?.status).toBe('VOIDED');

  const again = await compensate(orderId, { reason: 'twice' }, 'bob');
  expect(again.status).toBe(409);
  expect(again.body.detail).toMatch(/nothing to compensate/);
});

it('a completed saga cannot be compensated: 409 problem saying why; unknown order 404', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success');
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    30000,
  );
  const before = await sagaOf(service.baseUrl, orderId);

  const res = await compensate(orderId, { reason: 'customer complaint' }, 'carol');
  expect(res.status).toBe(409);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({
    type: 'https://eventticket.dev/problems/saga-state-conflict',
    status: 409,
    sagaState: 'completed',
  });
  expect(res.body.detail).toMatch(/completed.*nothing to compensate/);
  expect((await sagaOf(service.baseUrl, orderId)).version).toBe(before.version);

  const unknown = await compensate(randomUUID(), { reason: 'x' }, 'carol');
  expect(unknown.status).toBe(404);
  expect(unknown.body.type).toBe('https://eventticket.dev/problems/not-found');
});
