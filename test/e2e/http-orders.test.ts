/**
 * Orders over HTTP, through the whole system: Express → saga runtime → DynamoDB + SQS →
 * participants → back, on the emulator and Redis.
 */
import { randomUUID } from 'node:crypto';
import { INVENTORY_TTL_SECONDS } from '../../src/cache/inventory-cache';
import { readPayment } from '../../src/participants/records';
import { http, postOrder } from '../support/http';
import { as } from '../support/auth';
import { customerNotice, eventually, startTestService, type TestService } from '../support/service';

let service: TestService;
const FINAL = ['COMPLETED', 'CANCELLED', 'FAILED'];

beforeAll(async () => {
  service = await startTestService({ PAYMENT_SLOW_MS: '3000', WORKER_CONCURRENCY: '10' }, { label: 'h' });
});
afterAll(async () => {
  await service?.stop();
});

async function newEvent(totalQuantity: number, price = 20): Promise<string> {
  const eventId = `ev-${randomUUID()}`;
  const put = await http(
    service.baseUrl,
    'PUT',
    `/events/${eventId}/inventory`,
    {
      eventName: 'Concert',
      ticketTypes: [{ ticketType: 'GA', totalQuantity, price, currency: 'EUR' }],
    },
    as.organizer(),
  );
  expect(put.status).toBe(200);
  return eventId;
}

async function order(eventId: string, paymentToken: string, quantity = 1, customerId = 'c-http'): Promise<string> {
  const res = await postOrder<{ orderId: string; status: string }>(service.baseUrl, {
    customerId,
    eventId,
    paymentToken,
    quantity,
  });
  expect(res.status).toBe(202);
  return res.body.orderId;
}

const orderStatus = async (orderId: string) =>
  (await http<{ status: string }>(service.baseUrl, 'GET', `/orders/${orderId}`, undefined, as.operator())).body.status;
const untilFinal = (orderId: string, timeoutMs = 30000) =>
  eventually(
    () => orderStatus(orderId),
    (s) => FINAL.includes(s),
    timeoutMs,
  );

/** [available, taken (held or sold)] of the event's GA tickets; which are sold, the orders say. */
async function inventoryOf(eventId: string) {
  const res = await http<{
    ticketTypes: Array<{ availableQuantity: number; takenQuantity: number }>;
  }>(service.baseUrl, 'GET', `/events/${eventId}/inventory`, undefined, as.operator());
  const [ga] = res.body.ticketTypes;
  return [ga.availableQuantity, ga.takenQuantity];
}

it('a paid order completes: seats sold, history 1..n in order, notification sent', async () => {
  const eventId = await newEvent(10);
  const orderId = await order(eventId, 'tok_success', 3);
  expect(await untilFinal(orderId)).toBe('COMPLETED');

  const saga = await http<{ state: string; version: number; history: Array<{ version: number; eventType: string }> }>(
    service.baseUrl,
    'GET',
    `/sagas/${orderId}`,
    undefined,
    as.operator(),
  );
  expect(saga.body.state).toBe('completed');
  expect(saga.body.history.map((h) => h.version)).toEqual([1, 2, 3, 4, 5]);
  expect(saga.body.history.map((h) => h.eventType)).toEqual([
    'ORDER_PLACED',
    'SEATS_RESERVED',
    'PAYMENT_CAPTURED',
    'SEATS_CONFIRMED',
    'NOTIFICATION_SENT',
  ]);
  expect(await inventoryOf(eventId)).toEqual([7, 3]);
  expect(await customerNotice(service.core, orderId)).toMatchObject({ orderId, template: 'order-completed' });
});

it('a customer cancel while the payment is out: seats back, nothing kept', async () => {
  const eventId = await newEvent(10);
  const orderId = await order(eventId, 'tok_slow', 2);
  await eventually(
    () => orderStatus(orderId),
    (s) => s === 'PROCESSING',
  );
  const cancel = await http(
    service.baseUrl,
    'POST',
    `/orders/${orderId}/cancel`,
    { reason: 'changed my mind' },
    as.customer('c-http'),
  );
  expect(cancel.status).toBe(202);
  expect(await untilFinal(orderId)).toBe('CANCELLED');
  expect(await inventoryOf(eventId)).toEqual([10, 0]);
  const payment = await readPayment(service.core.participantDeps, orderId);
  // Either the void beat the charge, or the charge captured and was refunded in full.
  if (payment?.status === 'REFUNDED') expect(payment.refundedAmountMinor).toBe(4000);
  else expect(payment?.status).toBe('VOIDED');
  const late = await http(service.baseUrl, 'POST', `/orders/${orderId}/cancel`, {}, as.customer('c-http'));
  expect([202, 409]).toContain(late.status);
});

it('a completed order can no longer be cancelled: 409 problem', async () => {
  const eventId = await newEvent(5);
  const orderId = await order(eventId, 'tok_success');
  expect(await untilFinal(orderId)).toBe('COMPLETED');
  const res = await http(service.baseUrl, 'POST', `/orders/${orderId}/cancel`, {}, as.customer('c-http'));
  expect(res.status).toBe(409);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
});

it('200 concurrent buyers for 50 seats: exactly 50 sold, nobody oversold, every order terminal', async () => {
  const eventId = await newEvent(50);
  // Once a saga has found the event sold out, later buyers are told so at POST (409, no saga).
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      postOrder<{ orderId: string; type?: string }>(service.baseUrl, {
        customerId: `buyer-${i}`,
        eventId,
        paymentToken: 'tok_success',
      }),
    ),
  );
  const soldOutAtPost = answers.filter((a) => a.status === 409);
  for (const a of soldOutAtPost) expect(a.body.type).toBe('https://eventticket.dev/problems/sold-out');
  const orderIds = answers.filter((a) => a.status === 202).map((a) => a.body.orderId);
  expect(orderIds.length + soldOutAtPost.length).toBe(200);
  expect(new Set(orderIds).size).toBe(orderIds.length);
  // One poller walks the open orders (200 pollers would measure the emulator, not the saga).
  const finals = new Map<string, string>();
  await eventually(
    async () => {
      for (const id of orderIds.filter((o) => !finals.has(o))) {
        const status = await orderStatus(id);
        if (FINAL.includes(status)) finals.set(id, status);
      }
      return finals.size;
    },
    (n) => n === orderIds.length,
    180000,
  );
  const counts = [...finals.values()].reduce<Record<string, number>>(
    (acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }),
    {},
  );
  expect(counts).toEqual({ COMPLETED: 50, FAILED: orderIds.length - 50 });
  // The view is read through Redis: a read that raced the last release's invalidation may cache
  // the counts just before it, for at most the TTL (INVENTORY_TTL_SECONDS, 5 s).
  const settled = await eventually(
    () => inventoryOf(eventId),
    (view) => view[1] === 50,
    (INVENTORY_TTL_SECONDS + 10) * 1000,
  );
  expect(settled).toEqual([0, 50]);
}, 240000);
