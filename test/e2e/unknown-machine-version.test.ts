/**
 * A saga whose machine version this build lacks (a newer build wrote it) is an operational
 * condition, not a poison message: its event stays on the real FIFO queue and is looked at again
 * with a growing wait, /ops/overview counts it under "unknown machine version", the listing says
 * which saga waits on which version, and the DLQ stays empty. Once the saga is readable again the
 * same message is applied. Real DynamoDB/SQS (the emulator); the worker is this process's.
 */
import { PoisonMessageError, RetryLaterError } from '../../src/messaging/errors';
import { readQueueDepths } from '../../src/ops/queue-depths';
import { createCoreWorkers } from '../../src/service';
import { MachineVersionUnavailableError, versionWaitDelayMs } from '../../src/runtime/version-wait';
import { as } from '../support/auth';
import { http } from '../support/http';
import {
  eventually,
  newEvent,
  placeOrder,
  setMachineVersion as setVersion,
  startTestService,
  type TestService,
} from '../support/service';

let service: TestService;

beforeAll(async () => {
  // The API only; the saga worker is started by the test once the saga names an unknown version.
  service = await startTestService({ MACHINE_VERSION_RETRY_SECONDS: '1' }, { inProcessWorkers: false, label: 'umv' });
});
afterAll(async () => {
  await service?.stop();
});

const setMachineVersion = (orderId: string, version: string) => setVersion(service.core, orderId, version);

interface Overview {
  deadLetters: number;
  unknownMachineVersion: { sagas: number; byVersion: Record<string, number>; problem: string | null };
}

it('waits on the queue instead of the DLQ, shows in /ops/overview, and is applied once the version is known', async () => {
  const { core } = service;
  const eventId = await newEvent(core, 10, 25);
  const orderId = await placeOrder(core, { eventId, paymentToken: 'tok_success' });
  await setMachineVersion(orderId, '99');

  // A real message for that saga: the inventory's answer (nothing consumes the ReserveSeats here).
  await core.dispatcher.sendSagaEvent(
    orderId,
    `${orderId}:ReserveSeats:reply`,
    { type: 'SEATS_UNAVAILABLE', reason: 'sold out' },
    `corr-${orderId}`,
  );
  const workers = createCoreWorkers(core, ['saga']);
  workers.start();
  try {
    // Held back at least twice (1 s, then 2 s): a retry, not a dead letter.
    const waiting = await eventually(
      () => core.store.load(orderId),
      (s) => (s?.versionWait?.seen ?? 0) >= 2,
      30000,
    );
    expect(waiting?.versionWait).toMatchObject({
      machineVersion: '99',
      knownVersions: ['2', '3'],
      eventType: 'SEATS_UNAVAILABLE',
    });
    expect(waiting?.sagaState).toBe('reserving');

    const overview = await http<Overview>(service.baseUrl, 'GET', '/ops/overview', undefined, as.operator());
    expect(overview.status).toBe(200);
    expect(overview.body.unknownMachineVersion).toEqual({
      sagas: 1,
      byVersion: { '99': 1 },
      problem: 'unknown machine version',
    });
    expect(overview.body.deadLetters).toBe(0);

    const listing = await http<{
      knownVersions: string[];
      byVersion: Record<string, number>;
      items: Array<Record<string, unknown>>;
    }>(service.baseUrl, 'GET', '/ops/sagas/machine-versions', undefined, as.operator());
    expect(listing.body.knownVersions).toEqual(['2', '3']);
    expect(listing.body.byVersion).toEqual({ '99': 1 });
    expect(listing.body.items).toEqual([
      expect.objectContaining({
        orderId,
        machineVersion: '99',
        state: 'reserving',
        waitingEvent: 'SEATS_UNAVAILABLE',
        problem: 'unknown machine version',
      }),
    ]);

    // The message is still on the saga queue (visible or held), never on a DLQ.
    const depths = await readQueueDepths(core.clients.sqs, core.queues);
    expect(depths.saga.visible + depths.saga.inFlight).toBeGreaterThanOrEqual(1);
    expect(depths.dlq.visible + depths.dlq.inFlight + depths.dlqFifo.visible + depths.dlqFifo.inFlight).toBe(0);

    // A person's request on that saga is a 503 naming the problem, not a 500.
    const cancel = await http<Record<string, unknown>>(
      service.baseUrl,
      'POST',
      `/orders/${orderId}/cancel`,
      { reason: 'changed my mind' },
      as.customer('customer-1'),
    );
    expect(cancel.status).toBe(503);
    expect(cancel.body).toMatchObject({ reason: 'unknown machine version', machineVersion: '99' });

    // A build that knows the version takes it: here the snapshot becomes readable again.
    await setMachineVersion(orderId, '2');
    const moved = await eventually(
      () => core.store.load(orderId),
      (s) => s?.sagaState === 'failed',
      30000,
    );
    expect(moved?.versionWait).toBeUndefined();
    const after = await http<Overview>(service.baseUrl, 'GET', '/ops/overview', undefined, as.operator());
    expect(after.body.unknownMachineVersion.sagas).toBe(0);
    expect(after.body.deadLetters).toBe(0);
  } finally {
    await workers.stop();
  }
}, 90000);

it('is a RetryLaterError with a doubling wait, and at SQS’s redrive bound a dead letter with its reason', async () => {
  const { core } = service;
  const eventId = await newEvent(core, 10, 25);
  const orderId = await placeOrder(core, { eventId, paymentToken: 'tok_success' });
  await setMachineVersion(orderId, '7');
  const event = { type: 'HOLD_EXPIRED' } as const;

  const third = core.runtime.deliver(orderId, 'e-3', event, 3);
  await expect(third).rejects.toBeInstanceOf(MachineVersionUnavailableError);
  await expect(core.runtime.deliver(orderId, 'e-3', event, 3)).rejects.toBeInstanceOf(RetryLaterError);
  await expect(core.runtime.deliver(orderId, 'e-3', event, 3)).rejects.toMatchObject({
    retryAfterMs: 4000,
    machineVersion: '7',
  });
  expect(versionWaitDelayMs(1)).toBe(30_000);
  expect(versionWaitDelayMs(6)).toBe(900_000);

  // The 10th receive is the last before SQS would redrive it without a word: dead-letter it with the reason.
  const last = core.runtime.deliver(orderId, 'e-10', event, 10);
  await expect(last).rejects.toBeInstanceOf(PoisonMessageError);
  await expect(core.runtime.deliver(orderId, 'e-10', event, 10)).rejects.toThrow(
    /unknown machine version 7: .* still waits after 10 deliveries; deploy a build that knows it, then redrive/,
  );
  const saga = await core.store.load(orderId);
  expect(saga?.sagaState).toBe('reserving');
  // Each held delivery counted on the item (3 at the third receive, 2 at the tenth).
  expect(saga?.versionWait).toMatchObject({ machineVersion: '7', seen: 5 });
  // Readable again, a step clears the mark even when the machine ignores the event.
  await setMachineVersion(orderId, '2');
  await expect(core.runtime.deliver(orderId, 'e-11', event, 11)).resolves.toBe('ignored');
  expect((await core.store.load(orderId))?.versionWait).toBeUndefined();
});
