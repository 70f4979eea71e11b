/**
 * The one step whose order item is left behind (machines/order-saga/projection.ts:
 * confirming → notifying, SEATS_CONFIRMED): the item stays one version behind its commit until the
 * next step projects it; every reader that acts on the saga reads the commit (GET, the stuck
 * listing, the sweeper). API only: no worker consumes anything, the events are delivered to the
 * runtime directly (the participants' replies, made up).
 */
import { randomUUID } from 'node:crypto';
import { createCoreSweeper } from '../../src/service';
import { http, stuckSagas } from '../support/http';
import { as } from '../support/auth';
import { eventually, placeOrder, startTestService, type TestService } from '../support/service';

const STUCK_AFTER_MS = 1500;
let service: TestService;

beforeAll(async () => {
  service = await startTestService(
    { STUCK_AFTER_MS: String(STUCK_AFTER_MS), STALLED_AFTER_MS: String(STUCK_AFTER_MS), LOG_LEVEL: 'error' },
    { inProcessWorkers: false, label: 'pl' },
  );
});
afterAll(async () => {
  await service?.stop();
});

/** A new order driven to `notifying` by its replies; returns its id. */
async function toNotifying(): Promise<string> {
  const orderId = await placeOrder(service.core, { eventId: `ev-${randomUUID()}`, paymentToken: 'tok_success' });
  const { runtime } = service.core;
  const reply = (kind: string) => `${orderId}:${kind}:reply`;
  const expiresAt = new Date(Date.now() + 600_000).toISOString();
  await runtime.deliver(orderId, reply('ReserveSeats'), {
    type: 'SEATS_RESERVED',
    reservationId: orderId,
    expiresAt,
    amountMinor: 2500,
    currency: 'EUR',
  });
  await runtime.deliver(orderId, reply('ChargePayment'), {
    type: 'PAYMENT_CAPTURED',
    paymentId: `pay-${orderId}`,
    amountMinor: 2500,
    currency: 'EUR',
  });
  expect(await runtime.deliver(orderId, reply('ConfirmSeats'), { type: 'SEATS_CONFIRMED' })).toBe('applied');
  return orderId;
}

const stuckListing = async () =>
  (await stuckSagas<{ items: Array<{ orderId: string; state: string; pendingCommands: string[] }> }>(service.baseUrl))
    .items;

it('SEATS_CONFIRMED leaves the item one version behind; GET shows the commit; the next step catches it up', async () => {
  const orderId = await toNotifying();
  const { store, runtime } = service.core;

  const item = (await store.loadProjection(orderId))!;
  expect(item).toMatchObject({ sagaState: 'confirming', status: 'CONFIRMED', sagaVersion: 3 });
  const committed = (await store.load(orderId))!;
  expect(committed).toMatchObject({
    sagaState: 'notifying',
    status: 'CONFIRMED',
    sagaVersion: 4,
    projectedVersion: 3,
    projectedState: 'confirming',
  });

  // The client's GET reads the commit.
  const get = await http<{ status: string; sagaState: string }>(
    service.baseUrl,
    'GET',
    `/orders/${orderId}`,
    undefined,
    as.customer('customer-1'),
  );
  expect(get.status).toBe(200);
  expect(get.body).toMatchObject({ status: 'CONFIRMED', sagaState: 'notifying' });

  // A redelivery finds the step applied: it re-sends the outbox and leaves the item where it is.
  expect(await runtime.deliver(orderId, `${orderId}:ConfirmSeats:reply`, { type: 'SEATS_CONFIRMED' })).toBe(
    'duplicate',
  );
  expect((await store.loadProjection(orderId))!.sagaVersion).toBe(3);

  // The next step (into a final state) projects, over the lag.
  expect(
    await runtime.deliver(orderId, `${orderId}:SendNotification:reply`, {
      type: 'NOTIFICATION_SENT',
      notificationId: `n-${orderId}`,
    }),
  ).toBe('applied');
  expect(await store.loadProjection(orderId)).toMatchObject({
    sagaState: 'completed',
    status: 'COMPLETED',
    sagaVersion: 5,
  });
  expect((await store.load(orderId))!.projectedVersion).toBeUndefined();
});

it('a saga stuck in notifying is listed as stuck in notifying; the sweeper rolls its item forward', async () => {
  const orderId = await toNotifying();
  expect((await service.core.store.loadProjection(orderId))!.sagaState).toBe('confirming');

  const entry = await eventually(
    async () => (await stuckListing()).find((i) => i.orderId === orderId),
    (e) => e !== undefined,
    15000,
  );
  expect(entry).toMatchObject({ state: 'notifying', pendingCommands: ['SendNotification'] });

  // Its item, past the stall bound, is a sweeper candidate: rolled forward (and its outbox re-sent).
  const sweeper = createCoreSweeper(service.core);
  await eventually(
    async () => {
      await sweeper.sweepOnce();
      return (await service.core.store.loadProjection(orderId))!;
    },
    (item) => item.sagaVersion === 4,
    15000,
  );
  expect(await service.core.store.loadProjection(orderId)).toMatchObject({ sagaState: 'notifying', sagaVersion: 4 });
  expect((await service.core.store.load(orderId))!.projectedVersion).toBeUndefined();
});
