/**
 * Operator actions decided on a saga version (If-Match: "<version>"): a saga that moved on since
 * answers 412 and nothing is done; the version it is at goes through. Real service, real queues.
 */
import { as } from '../support/auth';
import { http } from '../support/http';
import { eventually, startTestService, type TestService } from '../support/service';
import { newEvent, placeOrder, sagaOf, type Problem } from './helpers';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ PAYMENT_SLOW_MS: '4000' }, { label: 'opre' });
});
afterAll(async () => {
  await service?.stop();
});

const act = (orderId: string, action: 'retry' | 'compensate', ifMatch: string | undefined) =>
  http<Problem & { currentVersion?: number; expectedVersion?: number; version?: number }>(
    service.baseUrl,
    'POST',
    `/ops/sagas/${orderId}/${action}`,
    { reason: 'checked by hand' },
    { ...as.repair('alice'), ...(ifMatch === undefined ? {} : { 'If-Match': ifMatch }) },
  );

it('a stale version gets 412 and changes nothing; the shown version goes through; a malformed one is a 400', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  const shown = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    60000,
  );
  const etag = await http(service.baseUrl, 'GET', `/sagas/${orderId}`, undefined, as.operator());
  expect(etag.headers.get('etag')).toBe(`"${shown.version}"`);

  for (const action of ['compensate', 'retry'] as const) {
    const stale = await act(orderId, action, `"${shown.version - 1}"`);
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({
      type: 'https://eventticket.dev/problems/precondition-failed',
      expectedVersion: shown.version - 1,
      currentVersion: shown.version,
    });
  }
  const after = await sagaOf(service.baseUrl, orderId);
  expect(after.version).toBe(shown.version);
  expect(after.history).toHaveLength(shown.history.length);
  expect(after.state).toBe('awaitingPayment');

  expect((await act(orderId, 'compensate', '12')).status).toBe(400);
  expect((await act(orderId, 'compensate', '"x"')).status).toBe(400);

  const ok = await act(orderId, 'compensate', `"${shown.version}"`);
  expect(ok.status).toBe(202);
  const moved = await sagaOf(service.baseUrl, orderId);
  expect(moved.history.find((h) => h.eventType === 'OPERATOR_COMPENSATE')).toMatchObject({
    version: shown.version + 1,
    actor: 'operator:alice',
  });
  // The same If-Match again is stale now.
  expect((await act(orderId, 'compensate', `"${shown.version}"`)).status).toBe(412);
});
