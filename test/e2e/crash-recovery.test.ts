/**
 * A worker process killed with SIGKILL right after it wrote a saga step and before it sent the
 * step's commands: the outbox on the saga item and the undeleted SQS message bring the saga to
 * its end anyway, with one charge.
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getPayment, readInventoryRows } from '../../src/participants';
import { spawnWorker, type WorkerProcess } from '../support/processes';
import { eventually, seedInventory, startTestService, workerEnv, type TestService } from '../support/service';

let service: TestService;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  service = await startTestService({}, { inProcessWorkers: false, label: 'k' });
  // A short visibility timeout so the unacknowledged message comes back within seconds.
  await service.core.clients.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: service.core.queues.saga, Attributes: { VisibilityTimeout: '3' } }),
  );
});
afterAll(async () => {
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.exited));
  await service?.stop();
});

it('a worker killed between the snapshot write and the send: the saga still completes, charged once', async () => {
  const eventId = `ev-${randomUUID()}`;
  await seedInventory(service.core, eventId, [{ ticketType: 'GA', totalQuantity: 5, price: 40, currency: 'EUR' }]);
  const onceFile = path.join(mkdtempSync(path.join(tmpdir(), 'crash-')), 'crashed');
  const doomed = spawnWorker(
    workerEnv(service.config, { FAULT_CRASH_AT: 'after-commit:SEATS_RESERVED', FAULT_CRASH_ONCE_FILE: onceFile }),
  );
  workers.push(doomed);

  const orderId = randomUUID();
  await service.core.runtime.place({
    orderId,
    customerId: 'c-crash',
    eventId,
    items: [{ ticketType: 'GA', quantity: 1 }],
    paymentToken: 'tok_success',
    correlationId: `corr-${orderId}`,
    requestHash: 'h',
  });

  const death = await doomed.exited;
  expect(death.signal).toBe('SIGKILL');
  expect(existsSync(onceFile)).toBe(true);
  // The step is written, its commands were never sent.
  const afterCrash = (await service.core.store.load(orderId))!;
  expect(afterCrash.sagaState).toBe('awaitingPayment');
  expect(afterCrash.sagaVersion).toBe(2);
  expect(await getPayment(service.core.participantDeps, orderId)).toBeUndefined();

  workers.push(spawnWorker(workerEnv(service.config)));
  const done = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.status === 'COMPLETED',
    60000,
  );
  expect(done.sagaVersion).toBe(5);
  const payment = await getPayment(service.core.participantDeps, orderId);
  expect(payment?.status).toBe('CAPTURED');
  const row = (await readInventoryRows(service.core.participantDeps, eventId)).get('GA')!;
  expect([row.availableQuantity, row.reservedQuantity, row.soldQuantity]).toEqual([4, 0, 1]);
});
