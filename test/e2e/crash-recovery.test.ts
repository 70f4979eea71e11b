/**
 * Worker processes dying for real, at the worst instructions: after a saga step was written but
 * before its commands were sent, and after a participant acted but before it replied; and the API
 * dying between its create's Events row and its order item (issue 25: the create is plain writes). The outbox
 * on the saga item, the undeleted SQS message and the participants' records bring every saga to
 * its end anyway, with one charge. And a SIGTERM is a graceful stop, not a crash.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readInventoryRows } from '../../src/participants';
import { readPayment } from '../../src/participants/records';
import { orderIdForIdempotencyKey } from '../../src/api/ids';
import { freePort } from '../../scripts/local-aws';
import { as, TEST_AUTH_ENV } from '../support/auth';
import { http, postOrder } from '../support/http';
import { spawnWorker, type WorkerProcess } from '../support/processes';
import { eventually, newEvent, placeOrder, startTestService, workerEnv, type TestService } from '../support/service';

let service: TestService;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  // The queues keep their 30 s / 60 s visibility timeouts; the workers take 3-s leases, so a
  // message a killed worker held (or its open long poll swallowed) comes back within seconds.
  service = await startTestService({ MESSAGE_LEASE_SECONDS: '3' }, { inProcessWorkers: false, label: 'k' });
});
// Each test owns its workers: none may steal another test's messages.
afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.kill();
    await w.exited;
  }
});
afterAll(async () => {
  await service?.stop();
});

it("the API killed between the create's Events row and its order item (create:after-row): the same request again finishes the order, which completes; another request under the key is refused", async () => {
  const eventId = await newEvent(service.core, 5, 40);
  const port = await freePort();
  const doomed = spawnWorker(
    workerEnv(service.config, {
      ...TEST_AUTH_ENV,
      REDIS_URL: service.config.redisUrl,
      SERVICE_MODE: 'api',
      PORT: String(port),
      FAULT_CRASH_AT: 'create:after-row',
    }),
  );
  workers.push(doomed);
  const apiUrl = `http://127.0.0.1:${port}`;
  await eventually(
    () =>
      fetch(`${apiUrl}/actuator/health`).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status > 0,
    60000,
  );
  const buyer = { customerId: 'c-crash-create', eventId, paymentToken: 'tok_success', quantity: 1 };
  const key = { 'Idempotency-Key': `k-${eventId}` };
  const orderId = orderIdForIdempotencyKey(buyer.customerId, key['Idempotency-Key']);
  // The API dies mid-request: the client gets no answer.
  await expect(postOrder(apiUrl, buyer, key)).rejects.toThrow();
  expect((await doomed.exited).signal).toBe('SIGKILL');
  // Its Events row is written; no order for any reader; no command sent.
  expect((await service.core.store.history(orderId)).map((r) => r.version)).toEqual([1]);
  expect(await service.core.store.load(orderId)).toBeUndefined();
  expect(
    (await http(service.baseUrl, 'GET', `/orders/${orderId}`, undefined, as.customer(buyer.customerId))).status,
  ).toBe(404);

  // Another request under the key: refused.
  expect((await postOrder(service.baseUrl, { ...buyer, quantity: 2 }, key)).status).toBe(422);
  // The client's retry: the order is placed as the first request would have placed it.
  const retried = await postOrder<{ orderId: string; orderNumber: string }>(service.baseUrl, buyer, key);
  expect(retried.status).toBe(202);
  expect(retried.body.orderId).toBe(orderId);
  workers.push(spawnWorker(workerEnv(service.config)));
  const done = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s?.status === 'COMPLETED',
    60000,
  );
  expect(done.orderNumber).toBe(retried.body.orderNumber);
  expect((await readPayment(service.core.participantDeps, orderId))?.attempts).toBe(1);
  const row = (await readInventoryRows(service.core.participantDeps, eventId)).get('GA')!;
  // The sold seat stays taken (reservedQuantity): the confirm wrote the reservation alone.
  expect([row.availableQuantity, row.reservedQuantity, row.soldQuantity]).toEqual([4, 1, 0]);
  expect((await service.core.store.history(orderId)).map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
});

it('a worker killed between the commit (Events row) and the projection update and send: the saga still completes, charged once', async () => {
  const eventId = await newEvent(service.core, 5, 40);
  const onceFile = path.join(mkdtempSync(path.join(tmpdir(), 'crash-')), 'crashed');
  const doomed = spawnWorker(
    workerEnv(service.config, { FAULT_CRASH_AT: 'after-commit:SEATS_RESERVED', FAULT_CRASH_ONCE_FILE: onceFile }),
  );
  workers.push(doomed);

  const orderId = await placeOrder(service.core, {
    eventId,
    paymentToken: 'tok_success',
    quantity: 1,
    customerId: 'c-crash',
  });

  const death = await doomed.exited;
  expect(death.signal).toBe('SIGKILL');
  expect(existsSync(onceFile)).toBe(true);
  // The step is committed (its Events row), its commands were never sent.
  const afterCrash = (await service.core.store.load(orderId))!;
  expect(afterCrash.sagaState).toBe('awaitingPayment');
  expect(afterCrash.sagaVersion).toBe(2);
  expect(await readPayment(service.core.participantDeps, orderId)).toBeUndefined();
  // The order item, a projection of the commit (issue 25), was never updated: it lags.
  expect(afterCrash.projectedVersion).toBe(1);
  expect(await service.core.store.loadProjection(orderId)).toMatchObject({ sagaVersion: 1, sagaState: 'reserving' });

  workers.push(spawnWorker(workerEnv(service.config)));
  const done = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.status === 'COMPLETED',
    60000,
  );
  expect(done.sagaVersion).toBe(5);
  const payment = await readPayment(service.core.participantDeps, orderId);
  expect(payment?.status).toBe('CAPTURED');
  const row = (await readInventoryRows(service.core.participantDeps, eventId)).get('GA')!;
  // The sold seat stays taken (reservedQuantity): the confirm wrote the reservation alone.
  expect([row.availableQuantity, row.reservedQuantity, row.soldQuantity]).toEqual([4, 1, 0]);
  // The redelivery rolled the projection forward; every later step projected its own.
  const item = await eventually(
    () => service.core.store.loadProjection(orderId),
    (s) => s?.sagaVersion === 5,
    30000,
  );
  expect(item?.status).toBe('COMPLETED');
});

it('a worker killed between the projection update and the send: the saga still completes, charged once', async () => {
  const eventId = await newEvent(service.core, 5, 40);
  const onceFile = path.join(mkdtempSync(path.join(tmpdir(), 'crash-')), 'crashed');
  const doomed = spawnWorker(
    workerEnv(service.config, { FAULT_CRASH_AT: 'after-projection:SEATS_RESERVED', FAULT_CRASH_ONCE_FILE: onceFile }),
  );
  workers.push(doomed);
  const orderId = await placeOrder(service.core, {
    eventId,
    paymentToken: 'tok_success',
    quantity: 1,
    customerId: 'c-crash-3',
  });
  expect((await doomed.exited).signal).toBe('SIGKILL');
  // Committed and projected; ChargePayment never sent.
  const afterCrash = (await service.core.store.load(orderId))!;
  expect(afterCrash).toMatchObject({ sagaState: 'awaitingPayment', sagaVersion: 2 });
  expect(afterCrash.projectedVersion).toBeUndefined();
  expect((await service.core.store.loadProjection(orderId))?.sagaVersion).toBe(2);
  expect(await readPayment(service.core.participantDeps, orderId)).toBeUndefined();

  workers.push(spawnWorker(workerEnv(service.config)));
  const done = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.status === 'COMPLETED',
    60000,
  );
  expect(done.sagaVersion).toBe(5);
  expect((await readPayment(service.core.participantDeps, orderId))?.attempts).toBe(1);
});

it('a worker killed after the payment was captured, before it replied: the saga completes, charged once', async () => {
  const eventId = await newEvent(service.core, 5, 40);
  const onceFile = path.join(mkdtempSync(path.join(tmpdir(), 'crash-')), 'crashed');
  const doomed = spawnWorker(
    workerEnv(service.config, { FAULT_CRASH_AT: 'after-effect:ChargePayment', FAULT_CRASH_ONCE_FILE: onceFile }),
  );
  workers.push(doomed);
  const orderId = await placeOrder(service.core, {
    eventId,
    paymentToken: 'tok_success',
    quantity: 2,
    customerId: 'c-crash-2',
  });
  expect((await doomed.exited).signal).toBe('SIGKILL');
  // The charge happened; the saga never heard of it.
  expect((await readPayment(service.core.participantDeps, orderId))?.status).toBe('CAPTURED');
  expect((await service.core.store.load(orderId))?.sagaState).toBe('awaitingPayment');

  workers.push(spawnWorker(workerEnv(service.config)));
  // Within 40 s: the ChargePayment the dead worker held comes back after its 3-s lease; on the
  // payment queue's own 60-s visibility timeout it could not be seen again before a minute.
  const done = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.status === 'COMPLETED',
    40000,
  );
  expect(done.saga.context.payment.state).toBe('captured');
  const payment = await readPayment(service.core.participantDeps, orderId);
  expect(payment).toMatchObject({ status: 'CAPTURED', amountMinor: 8000 });
  // The redelivered command found the recorded capture: one gateway call, no second attempt.
  expect(payment?.attempts).toBe(1);
});

it.each(['direct', 'queue'] as const)(
  'SIGTERM: a worker stops receiving, finishes the charge in flight, hands its reply on, and exits 0 (%s replies)',
  async (replyDelivery) => {
    const eventId = await newEvent(service.core, 5, 10);
    const worker = spawnWorker(workerEnv(service.config, { PAYMENT_SLOW_MS: '3000', REPLY_DELIVERY: replyDelivery }));
    workers.push(worker);
    const orderId = await placeOrder(service.core, {
      eventId,
      paymentToken: 'tok_slow',
      quantity: 1,
      customerId: 'c-term',
    });
    await eventually(
      async () => (await readPayment(service.core.participantDeps, orderId))?.status,
      (s) => s === 'IN_FLIGHT',
      30000,
    );
    worker.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // It finished the charge and handed the reply on before exiting, with no worker left running.
    expect((await readPayment(service.core.participantDeps, orderId))?.status).toBe('CAPTURED');
    if (replyDelivery === 'direct') {
      // Applied by the worker itself: the saga took the step and asked for the seats' confirmation.
      const saga = (await service.core.store.load(orderId))!;
      expect(saga.sagaState).toBe('confirming');
      expect((await service.core.store.history(orderId)).map((h) => h.eventType)).toContain('PAYMENT_CAPTURED');
    } else {
      const inbox = await service.core.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: service.core.queues.saga, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
      );
      const bodies = (inbox.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as { event?: { type?: string } });
      expect(bodies.map((b) => b.event?.type)).toContain('PAYMENT_CAPTURED');
      expect((await service.core.store.load(orderId))!.sagaState).toBe('awaitingPayment');
    }
  },
);
