/**
 * The order is paid and its seats were sold, but the worker died before the saga heard of it:
 * the saga sits in confirming. An operator compensates it: the sold seats go back on sale, the
 * capture is refunded in full, the order ends CANCELLED as compensated, and the books balance.
 * Real worker processes, real SIGKILL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkInvariants } from '../../tools/invariants';
import { readPayment } from '../../src/participants/records';
import { http } from '../support/http';
import { as } from '../support/auth';
import { spawnWorker, type WorkerProcess } from '../support/processes';
import { customerNotice, eventually, startTestService, workerEnv, type TestService } from '../support/service';
import { expectContiguous, inventoryOf, newEvent, placeOrder, sagaOf } from './helpers';

let service: TestService;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  service = await startTestService({ MESSAGE_LEASE_SECONDS: '3' }, { inProcessWorkers: false, label: 'ocs' });
});
afterAll(async () => {
  for (const w of workers) {
    w.kill();
    await w.exited;
  }
  await service?.stop();
});

it('compensating a paid order stuck in confirming after its seats were sold: seats back on sale, refunded in full', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const onceFile = path.join(mkdtempSync(path.join(tmpdir(), 'sold-')), 'crashed');
  const doomed = spawnWorker(
    workerEnv(service.config, { FAULT_CRASH_AT: 'after-effect:ConfirmSeats', FAULT_CRASH_ONCE_FILE: onceFile }),
  );
  workers.push(doomed);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success', 2);
  expect((await doomed.exited).signal).toBe('SIGKILL');

  // Sold and paid, but the saga never heard it.
  const stuck = await sagaOf(service.baseUrl, orderId);
  expect(stuck.state).toBe('confirming');
  expect(await inventoryOf(service.baseUrl, eventId)).toEqual([8, 2]);
  expect((await readPayment(service.core.participantDeps, orderId))?.status).toBe('CAPTURED');

  const res = await http<{ state: string; compensationRequested: boolean }>(
    service.baseUrl,
    'POST',
    `/ops/sagas/${orderId}/compensate`,
    { reason: 'venue cannot seat this party' },
    as.repair('dana'),
  );
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ state: 'releasingSeats', compensationRequested: true });

  // A worker again: the dead one's ConfirmSeats comes back too, before or after the release.
  workers.push(spawnWorker(workerEnv(service.config)));
  const done = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'cancelled',
    60000,
  );
  expect(done.status).toBe('CANCELLED');
  expect(done.context.outcome).toBe('compensated');
  expectContiguous(done.history);
  expect(done.history.map((h) => h.eventType)).toEqual([
    'ORDER_PLACED',
    'SEATS_RESERVED',
    'PAYMENT_CAPTURED',
    'OPERATOR_COMPENSATE',
    'SEATS_RELEASED',
    'REFUND_ISSUED',
  ]);
  expect(done.history.find((h) => h.eventType === 'OPERATOR_COMPENSATE')).toMatchObject({
    actor: 'operator:dana',
    fromState: 'confirming',
    toState: 'releasingSeats',
  });
  expect(await inventoryOf(service.baseUrl, eventId)).toEqual([10, 0]);
  expect(await readPayment(service.core.participantDeps, orderId)).toMatchObject({
    status: 'REFUNDED',
    amountMinor: 5000,
    refundedAmountMinor: 5000,
  });

  expect(await customerNotice(service.core, orderId)).toMatchObject({
    template: 'order-cancelled',
    outcome: 'compensated',
  });

  const report = await checkInvariants({ doc: service.core.clients.doc, tables: service.core.names.tables });
  expect(report.violations).toEqual([]);
});
