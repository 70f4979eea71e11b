/**
 * The sweeper is the safety net behind lost messages: a saga whose commands were never sent (the
 * API died between its write and its send) is picked up once it has been idle too long, and a
 * hold whose timer message never fired is expired, found through its saga (StatusOrdersIndex, then
 * the saga's own reservation.expiresAt: TicketReservations has no index since issue 25). And an order item left
 * behind its commit with no message to redeliver (a request's process died between the Events row
 * and the projection) is found by its stale status and rolled forward, its outbox re-sent. The
 * stale scan needs no index on `updatedAt` (issue 25): StatusOrdersIndex, then the items.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { startSaga } from '../../machines/order-saga';
import { createCoreSweeper, createCoreWorkers } from '../../src/service';
import { Sweeper } from '../../src/runtime/sweeper';
import type { Workers } from '../../src/runtime/workers';
import { readReservation } from '../../src/participants/records';
import { eventually, newEvent, placeOrder, startTestService, type TestService } from '../support/service';

let service: TestService;
let workers: Workers | undefined;
let sweeper: Sweeper | undefined;

beforeAll(async () => {
  service = await startTestService(
    { STALLED_AFTER_MS: '1500', SWEEP_INTERVAL_MS: '500', HOLD_SECONDS: '2', PAYMENT_SLOW_MS: '60000' },
    { inProcessWorkers: false, label: 's' },
  );
});
afterEach(async () => {
  await workers?.stop();
  await sweeper?.stop();
});
afterAll(async () => {
  await service?.stop();
});

it('re-sends the commands of a saga whose first send never happened', async () => {
  const eventId = await newEvent(service.core, 3, 10);
  const orderId = randomUUID();
  const decision = startSaga({
    orderId,
    customerId: 'c-sweep',
    eventId,
    items: [{ ticketType: 'GA', quantity: 1 }],
    paymentToken: 'tok_success',
    holdSeconds: 30,
  });
  // What an API that died right after its transaction leaves behind: the saga, no message.
  const now = new Date().toISOString();
  await service.core.store.create(
    {
      orderId,
      customerId: 'c-sweep',
      eventId,
      items: [{ ticketType: 'GA', quantity: 1 }],
      status: decision.status,
      totalAmountMinor: null,
      currency: null,
      createdAt: now,
      updatedAt: now,
      correlationId: 'corr-sweep',
      requestHash: 'h',
    },
    decision.saga,
    { eventId: `${orderId}:ORDER_PLACED`, eventType: 'ORDER_PLACED', payload: {} },
    now,
  );
  workers = createCoreWorkers(service.core);
  workers.start();
  sweeper = createCoreSweeper(service.core);
  sweeper.start();
  const done = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.status === 'COMPLETED',
    30000,
  );
  expect(done.sagaVersion).toBe(5);
});

it('rolls forward an order item left behind its commit with no message behind it; the saga then completes', async () => {
  const eventId = await newEvent(service.core, 3, 10);
  const orderId = await placeOrder(service.core, { eventId, paymentToken: 'tok_success', customerId: 'c-lag' });
  const v1 = (await service.core.store.load(orderId))!;
  // A request's step committed (its Events row) by a process that died before projecting and sending.
  await service.core.store.append(
    v1,
    { saga: v1.saga, status: v1.status, commands: [] },
    { eventId: `${orderId}:retry`, eventType: 'OPERATOR_RETRY', payload: {}, actor: 'op' },
    new Date().toISOString(),
  );
  expect((await service.core.store.loadProjection(orderId))?.sagaVersion).toBe(1);
  const sweeping = createCoreSweeper(service.core);
  // The table has no index on updatedAt (issue 25 retired StatusIndex): the stale scan walks
  // StatusOrdersIndex (created before the cutoff) and reads the items.
  const { Table } = await service.core.clients.ddb.send(
    new DescribeTableCommand({ TableName: service.core.names.tables.orders }),
  );
  expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).not.toContain('StatusIndex');
  expect(Table?.AttributeDefinitions?.map((a) => a.AttributeName)).not.toContain('updatedAt');
  // Found under the item's stale status once STALLED_AFTER_MS passed (the index may lag: retried).
  await eventually(
    () => sweeping.sweepOnce(),
    (r) => r.rolledForward >= 1,
    30000,
  );
  expect(await service.core.store.loadProjection(orderId)).toMatchObject({ sagaVersion: 2, sagaState: 'reserving' });
  workers = createCoreWorkers(service.core);
  workers.start();
  sweeper = createCoreSweeper(service.core);
  sweeper.start();
  const done = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.status === 'COMPLETED',
    30000,
  );
  expect(done.sagaVersion).toBe(6);
  await eventually(
    () => service.core.store.loadProjection(orderId),
    (s) => s?.sagaVersion === 6,
    30000,
  );
});

it('expires a hold whose timer never fired, found through its saga (the reservations table has no index)', async () => {
  const { Table } = await service.core.clients.ddb.send(
    new DescribeTableCommand({ TableName: service.core.names.tables.reservations }),
  );
  expect(Table?.GlobalSecondaryIndexes ?? []).toEqual([]);
  const eventId = await newEvent(service.core, 3, 10);
  // No timer worker (the hold's timer is never forwarded) and no payment worker (the charge never
  // answers): only the sweeper can end this hold.
  // The sweeps run on fixed clocks around the hold's expiry, so nothing here depends on timing.
  workers = createCoreWorkers(service.core, ['saga', 'inventory']);
  workers.start();
  const orderId = await placeOrder(service.core, {
    eventId,
    paymentToken: 'tok_success',
    quantity: 2,
    customerId: 'c-hold',
  });
  const held = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.sagaState !== 'reserving',
    30000,
  );
  expect(held.sagaState).toBe('awaitingPayment');
  // The saga's own expiry decides: on a clock inside the grace (5 s) after it, nothing is due; on a
  // clock past it, this saga is found (and its HOLD_EXPIRED sent; the event id makes repeats no-ops).
  const expiresAt = Date.parse(held.saga.context.reservation!.expiresAt);
  const sweepAt = (ms: number) =>
    new Sweeper({
      store: service.core.store,
      dispatcher: service.core.dispatcher,
      logger: service.core.logger,
      stalledAfterMs: 3_600_000,
      intervalMs: 1000,
      now: () => new Date(ms),
    }).sweepOnce();
  expect(await sweepAt(expiresAt + 4000)).toMatchObject({ expiredHolds: 0 });
  expect(await sweepAt(expiresAt + 6000)).toMatchObject({ expiredHolds: 1 });
  const saga = await eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.sagaState === 'settlingPayment',
    30000,
  );
  expect(saga.saga.context.outcome).toBe('expired');
  expect((await readReservation(service.core.participantDeps, orderId))?.status).toBe('EXPIRED');
  const history = await service.core.store.history(orderId);
  expect(history.map((h) => h.eventType)).toEqual(['ORDER_PLACED', 'SEATS_RESERVED', 'HOLD_EXPIRED', 'SEATS_RELEASED']);
});

it('backs off: two sweeping workers re-send a stalled saga once per period, and the period doubles', async () => {
  const eventId = await newEvent(service.core, 3, 10);
  // Nobody consumes the inventory queue: ReserveSeats waits there like a command in a slow queue.
  const sweepers = [createCoreSweeper(service.core), createCoreSweeper(service.core)];
  const orderId = await placeOrder(service.core, { eventId, paymentToken: 'tok_success' });
  sweepers.forEach((s) => s.start());
  await new Promise((r) => setTimeout(r, 7500));
  await Promise.all(sweepers.map((s) => s.stop()));

  let reserveCommands = 0;
  for (;;) {
    const { Messages = [] } = await service.core.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: service.core.queues.inventory,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) break;
    reserveCommands += Messages.filter((m) => (m.Body ?? '').includes(`${orderId}:ReserveSeats`)).length;
  }
  // Sent at 0 s; re-sent once idle 1.5 s (~2 s), then 3 s after that (~5 s); the next is due 6 s
  // later (~11 s), after the 7.5 s watched.
  // Without the lease, two workers sweeping every 0.5 s would have sent about 25 copies.
  expect(reserveCommands).toBe(3);
  expect((await service.core.store.load(orderId))?.resendLease).toMatchObject({ version: 1, count: 2 });
});
