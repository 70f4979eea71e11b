/**
 * How participants' replies reach the saga (REPLY_DELIVERY, src/runtime/workers.ts toSaga), on
 * real DynamoDB and SQS:
 * - 'direct' (the default): the worker that has the reply applies it at once. A completed order
 *   then sends only its commands (5 sends), none of its 4 replies, and nothing waits on the saga's
 *   FIFO queue; each reply is still applied once.
 * - when the direct delivery cannot be made (here: the saga runs on a machine version this build
 *   lacks), the reply goes to the FIFO queue instead, and is applied from there once it can be.
 * - 'queue': every reply goes through the FIFO queue (9 sends per completed order).
 */
import { readQueueDepths } from '../../src/ops/queue-depths';
import {
  eventually,
  newEvent,
  orderAwaitingSlowPayment,
  placeOrder,
  setMachineVersion,
  startTestService,
  type TestService,
} from '../support/service';

const COMPLETED_STEPS = ['ORDER_PLACED', 'SEATS_RESERVED', 'PAYMENT_CAPTURED', 'SEATS_CONFIRMED', 'NOTIFICATION_SENT'];

async function completeOne(service: TestService): Promise<{ orderId: string; sends: number }> {
  const { core } = service;
  const eventId = await newEvent(core, 10, 25);
  const before = core.clients.meter.snapshot().requests['SQS.SendMessageBatch'] ?? 0;
  const orderId = await placeOrder(core, { eventId, paymentToken: 'tok_success' });
  await eventually(
    async () => (await core.store.load(orderId))?.status,
    (s) => s === 'COMPLETED',
  );
  const sends = (core.clients.meter.snapshot().requests['SQS.SendMessageBatch'] ?? 0) - before;
  expect((await core.store.history(orderId)).map((h) => h.eventType)).toEqual(COMPLETED_STEPS);
  return { orderId, sends };
}

describe('REPLY_DELIVERY=direct (the default)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ PAYMENT_SLOW_MS: '2000', MACHINE_VERSION_RETRY_SECONDS: '1' }, { label: 'rd' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('applies replies where they are made: a completed order sends its 5 commands and no reply', async () => {
    const { sends } = await completeOne(service);
    // ReserveSeats; ChargePayment + ScheduleHoldExpiry (two queues); ConfirmSeats; SendNotification.
    expect(sends).toBe(5);
    const depths = await readQueueDepths(service.core.clients.sqs, service.core.queues);
    expect(depths.saga).toMatchObject({ visible: 0, inFlight: 0 });
  });

  it('sends a reply it cannot apply (a machine version this build lacks) to the saga queue instead', async () => {
    const { core } = service;
    const eventId = await newEvent(core, 10, 25);
    const orderId = await orderAwaitingSlowPayment(core, eventId);
    // As a newer build would have written it, while the payment is being taken.
    await setMachineVersion(core, orderId, '99');
    // The reply waits on the FIFO queue (the saga consumer holds it back), the saga unmoved.
    const waiting = await eventually(
      () => core.store.load(orderId),
      (s) => s?.versionWait?.machineVersion === '99',
    );
    expect(waiting).toMatchObject({ sagaVersion: 2, sagaState: 'awaitingPayment' });
    expect(waiting?.versionWait?.eventType).toBe('PAYMENT_CAPTURED');
    // The version becomes known again (a rollback of the newer build): the queued reply is applied.
    await setMachineVersion(core, orderId, '2');
    const done = await eventually(
      async () => (await core.store.load(orderId))!,
      (s) => s.status === 'COMPLETED',
      60000,
    );
    expect((await core.store.history(done.orderId)).map((h) => h.eventType)).toEqual(COMPLETED_STEPS);
  });
});

describe('REPLY_DELIVERY=queue', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ REPLY_DELIVERY: 'queue' }, { label: 'rq' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('sends every reply through the saga queue: 5 commands and 4 replies', async () => {
    const { sends } = await completeOne(service);
    expect(sends).toBe(9);
  });
});
