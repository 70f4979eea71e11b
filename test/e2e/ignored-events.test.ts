/**
 * The runtime says when an event surprised the machine (issue 17): an event that changes nothing
 * and that the saga's state neither handles nor lists in its ignores (machines/order-saga/
 * ignores.ts) is logged at warn, with the state and the event; a late reply the state lists is
 * routine and stays at debug. Either way nothing is persisted. Real DynamoDB and SQS; the runtime
 * is this process's (no workers, so the saga stays where the test puts it).
 */
import { newEvent, placeOrder, startTestService, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({}, { inProcessWorkers: false, label: 'ignored' });
});
afterAll(async () => {
  await service?.stop();
});

const UNEXPECTED = 'unexpected event ignored: no transition or ignore for it in this state';

it('logs an event no state expects at warn, with state and event, and leaves the saga as it was', async () => {
  const { core } = service;
  const eventId = await newEvent(core, 10, 25);
  const orderId = await placeOrder(core, { eventId, paymentToken: 'tok_success' });
  const reserved = {
    type: 'SEATS_RESERVED',
    reservationId: orderId,
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    amountMinor: 2500,
    currency: 'EUR',
  } as const;
  await expect(core.runtime.deliver(orderId, `${orderId}:r1`, reserved)).resolves.toBe('applied');
  const before = await core.store.load(orderId);
  expect(before?.sagaState).toBe('awaitingPayment');

  const warn = jest.spyOn(core.logger, 'warn');
  try {
    // A duplicate of the reservation's answer under a new id: awaitingPayment lists it, no warning.
    await expect(core.runtime.deliver(orderId, `${orderId}:r2`, reserved)).resolves.toBe('ignored');
    expect(warn.mock.calls.filter(([message]) => (message as unknown) === UNEXPECTED)).toEqual([]);

    // A refund's answer while awaiting payment: no state before refunding asks for one.
    const refund = { type: 'REFUND_ISSUED', refundId: 're-1', amountMinor: 2500 } as const;
    await expect(core.runtime.deliver(orderId, `${orderId}:refund`, refund)).resolves.toBe('ignored');
    expect(warn.mock.calls.filter(([message]) => (message as unknown) === UNEXPECTED)).toEqual([
      [
        UNEXPECTED,
        expect.objectContaining({ orderId, event: 'REFUND_ISSUED', state: 'awaitingPayment', machineVersion: '2' }),
      ],
    ]);
  } finally {
    warn.mockRestore();
  }
  const after = await core.store.load(orderId);
  expect(after?.sagaVersion).toBe(before?.sagaVersion);
  expect(after?.sagaState).toBe('awaitingPayment');
});
