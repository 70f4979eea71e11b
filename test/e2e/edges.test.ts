/**
 * Right answers at the edges (issue 13), through the whole system over HTTP: money in minor units,
 * free tickets, Idempotency-Key replays, cancels of orders that ended cancelled.
 */
import { randomUUID } from 'node:crypto';
import { readPayment, readNotification, readReservation } from '../../src/participants/records';
import { as } from '../support/auth';
import { http } from '../support/http';
import { customerNotice, eventually, startTestService, type TestService } from '../support/service';

let service: TestService;
const FINAL = ['COMPLETED', 'CANCELLED', 'FAILED'];

beforeAll(async () => {
  // A hold shorter than the slow charge: the hold expires while the charge is in flight. Long enough
  // that a prompt charge (tok_success) never races it, even on a loaded machine.
  service = await startTestService(
    { PAYMENT_SLOW_MS: '20000', HOLD_SECONDS: '15', WORKER_CONCURRENCY: '10' },
    { label: 'edge' },
  );
});
afterAll(async () => {
  await service?.stop();
});

type TicketType = { ticketType: string; totalQuantity: number; price: number; currency: string };

function putInventory(eventId: string, ticketTypes: TicketType[]) {
  return http<{ errors?: Array<{ field: string; message: string }>; type?: string }>(
    service.baseUrl,
    'PUT',
    `/events/${eventId}/inventory`,
    {
      eventName: 'Edges',
      ticketTypes,
    },
    as.organizer(),
  );
}

async function newEvent(ticketTypes: TicketType[]): Promise<string> {
  const eventId = `ev-${randomUUID()}`;
  expect((await putInventory(eventId, ticketTypes)).status).toBe(200);
  return eventId;
}

async function place(
  eventId: string,
  ticketType: string,
  quantity: number,
  paymentToken: string,
  headers: Record<string, string> = {},
) {
  return http<{ orderId: string; status: string; sagaState: string }>(
    service.baseUrl,
    'POST',
    '/orders',
    { customerId: 'c-edge', eventId, items: [{ ticketType, quantity }], paymentToken },
    { ...as.customer('c-edge'), ...headers },
  );
}

const finalOrder = (orderId: string) =>
  eventually(
    () =>
      http<{ status: string; totalAmount: number | null; currency: string | null }>(
        service.baseUrl,
        'GET',
        `/orders/${orderId}`,
        undefined,
        as.customer('c-edge'),
      ),
    (r) => FINAL.includes(r.body.status),
    60000,
  );
const outcomeOf = async (orderId: string) =>
  (
    await http<{ context: { outcome: string } }>(
      service.baseUrl,
      'GET',
      `/sagas/${orderId}`,
      undefined,
      as.customer('c-edge'),
    )
  ).body.context.outcome;

describe('money', () => {
  it.each([
    [1.005, 'EUR'],
    [2.675, 'USD'],
    [1.5, 'JPY'], // JPY has no minor unit
    [0.0001, 'KWD'], // KWD has 3 decimals
  ])('refuses %s %s at PUT with a field error on the price, writing nothing', async (price, currency) => {
    const eventId = `ev-${randomUUID()}`;
    const res = await putInventory(eventId, [{ ticketType: 'GA', totalQuantity: 5, price, currency }]);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: '/ticketTypes/0/price' })]);
    expect((await http(service.baseUrl, 'GET', `/events/${eventId}/inventory`, undefined, as.organizer())).status).toBe(
      404,
    );
  });

  it('refuses a currency that is not ISO 4217, with a field error on the currency', async () => {
    const res = await putInventory(`ev-${randomUUID()}`, [
      { ticketType: 'GA', totalQuantity: 5, price: 1, currency: 'EUX' },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: '/ticketTypes/0/currency' })]);
  });

  it('charges 4 × 2.67 USD exactly 10.68 (1068 minor units), and says 10.68 on the wire', async () => {
    const eventId = await newEvent([{ ticketType: 'GA', totalQuantity: 10, price: 2.67, currency: 'USD' }]);
    const placed = await place(eventId, 'GA', 4, 'tok_success');
    expect(placed.status).toBe(202);
    const done = await finalOrder(placed.body.orderId);
    expect(done.body).toMatchObject({ status: 'COMPLETED', totalAmount: 10.68, currency: 'USD' });
    expect(await readPayment(service.core.participantDeps, placed.body.orderId)).toMatchObject({
      status: 'CAPTURED',
      amountMinor: 1068,
      currency: 'USD',
    });
  });

  it('prices in the currency exponent: 3 × 1.234 KWD is 3.702 (3702 fils); 3 × 1500 JPY is 4500 yen', async () => {
    const eventId = await newEvent([
      { ticketType: 'KW', totalQuantity: 10, price: 1.234, currency: 'KWD' },
      { ticketType: 'JP', totalQuantity: 10, price: 1500, currency: 'JPY' },
    ]);
    const inventory = await http<{ ticketTypes: TicketType[] }>(
      service.baseUrl,
      'GET',
      `/events/${eventId}/inventory`,
      undefined,
      as.organizer(),
    );
    expect(inventory.body.ticketTypes.map((t) => [t.ticketType, t.price, t.currency])).toEqual([
      ['JP', 1500, 'JPY'],
      ['KW', 1.234, 'KWD'],
    ]);
    const kwd = await place(eventId, 'KW', 3, 'tok_success');
    const jpy = await place(eventId, 'JP', 3, 'tok_success');
    expect((await finalOrder(kwd.body.orderId)).body).toMatchObject({
      status: 'COMPLETED',
      totalAmount: 3.702,
      currency: 'KWD',
    });
    expect((await finalOrder(jpy.body.orderId)).body).toMatchObject({
      status: 'COMPLETED',
      totalAmount: 4500,
      currency: 'JPY',
    });
    expect((await readPayment(service.core.participantDeps, kwd.body.orderId))?.amountMinor).toBe(3702);
    expect((await readPayment(service.core.participantDeps, jpy.body.orderId))?.amountMinor).toBe(4500);
  });
});

describe('free tickets', () => {
  it('a free order completes with no payment record and its notice sent', async () => {
    const eventId = await newEvent([{ ticketType: 'FREE', totalQuantity: 10, price: 0, currency: 'EUR' }]);
    const placed = await place(eventId, 'FREE', 2, 'tok_success');
    const done = await finalOrder(placed.body.orderId);
    expect(done.body).toMatchObject({ status: 'COMPLETED', totalAmount: 0, currency: 'EUR' });
    expect(await readPayment(service.core.participantDeps, placed.body.orderId)).toBeUndefined();
    expect(await customerNotice(service.core, placed.body.orderId)).toMatchObject({
      template: 'order-completed',
      outcome: 'completed',
    });
    const inventory = await http<{ ticketTypes: Array<{ availableQuantity: number; takenQuantity: number }> }>(
      service.baseUrl,
      'GET',
      `/events/${eventId}/inventory`,
      undefined,
      as.organizer(),
    );
    expect(inventory.body.ticketTypes[0]).toMatchObject({ availableQuantity: 8, takenQuantity: 2 });
    expect(await readReservation(service.core.participantDeps, placed.body.orderId)).toMatchObject({
      status: 'CONFIRMED',
    });
  });

  it('a free order with a card that would be declined still completes: nothing is charged', async () => {
    const eventId = await newEvent([{ ticketType: 'FREE', totalQuantity: 10, price: 0, currency: 'JPY' }]);
    const placed = await place(eventId, 'FREE', 1, 'tok_declined');
    expect((await finalOrder(placed.body.orderId)).body.status).toBe('COMPLETED');
    expect(await readPayment(service.core.participantDeps, placed.body.orderId)).toBeUndefined();
  });
});

describe('Idempotency-Key replay', () => {
  it('after the event changed its currency, the replay answers 202 with the same orderId, marked replayed', async () => {
    const eventId = await newEvent([
      { ticketType: 'GA', totalQuantity: 10, price: 20, currency: 'EUR' },
      { ticketType: 'VIP', totalQuantity: 10, price: 50, currency: 'EUR' },
    ]);
    const key = `k-${randomUUID()}`;
    const body = {
      customerId: 'c-edge',
      eventId,
      items: [
        { ticketType: 'GA', quantity: 1 },
        { ticketType: 'VIP', quantity: 1 },
      ],
      paymentToken: 'tok_success',
    };
    const first = await http<{ orderId: string }>(service.baseUrl, 'POST', '/orders', body, {
      ...as.customer('c-edge'),
      'Idempotency-Key': key,
    });
    expect(first.status).toBe(202);
    await finalOrder(first.body.orderId);
    // VIP is now priced in USD: the same body as a new order would be refused (mixed currencies, 422).
    expect(
      (await putInventory(eventId, [{ ticketType: 'VIP', totalQuantity: 10, price: 55, currency: 'USD' }])).status,
    ).toBe(200);
    const fresh = await http(service.baseUrl, 'POST', '/orders', body, {
      ...as.customer('c-edge'),
      'Idempotency-Key': `k-${randomUUID()}`,
    });
    expect(fresh.status).toBe(422);

    const again = await http<{ orderId: string }>(service.baseUrl, 'POST', '/orders', body, {
      ...as.customer('c-edge'),
      'Idempotency-Key': key,
    });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body); // what the first request got, though the order has completed since
  });

  it('a replay for an event whose inventory is gone entirely still answers the first order', async () => {
    const key = `k-${randomUUID()}`;
    const eventId = await newEvent([{ ticketType: 'GA', totalQuantity: 1, price: 5, currency: 'EUR' }]);
    const first = await place(eventId, 'GA', 1, 'tok_success', { 'Idempotency-Key': key });
    await finalOrder(first.body.orderId); // sold out now
    const again = await place(eventId, 'GA', 1, 'tok_success', { 'Idempotency-Key': key });
    expect([again.status, again.body.orderId, again.headers.get('idempotent-replayed')]).toEqual([
      202,
      first.body.orderId,
      'true',
    ]);
    const other = await place(eventId, 'GA', 1, 'tok_declined', { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
  });

  it('a repeated cancel is marked as a replay', async () => {
    const eventId = await newEvent([{ ticketType: 'GA', totalQuantity: 5, price: 5, currency: 'EUR' }]);
    const placed = await place(eventId, 'GA', 1, 'tok_slow');
    const first = await http(
      service.baseUrl,
      'POST',
      `/orders/${placed.body.orderId}/cancel`,
      {},
      as.customer('c-edge'),
    );
    const second = await http(
      service.baseUrl,
      'POST',
      `/orders/${placed.body.orderId}/cancel`,
      {},
      as.customer('c-edge'),
    );
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await finalOrder(placed.body.orderId)).body.status).toBe('CANCELLED');
  });
});

describe('cancel of an order that ended cancelled', () => {
  it('after the hold expired during a slow charge: 202 with the order', async () => {
    const eventId = await newEvent([{ ticketType: 'GA', totalQuantity: 5, price: 10, currency: 'EUR' }]);
    const placed = await place(eventId, 'GA', 1, 'tok_slow');
    const done = await finalOrder(placed.body.orderId);
    expect(done.body.status).toBe('CANCELLED');
    expect(await outcomeOf(placed.body.orderId)).toBe('expired');
    const cancel = await http<{ orderId: string; status: string }>(
      service.baseUrl,
      'POST',
      `/orders/${placed.body.orderId}/cancel`,
      {},
      as.customer('c-edge'),
    );
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ orderId: placed.body.orderId, status: 'CANCELLED' });
  });

  it("after an operator's compensation: 202 with the order", async () => {
    const eventId = await newEvent([{ ticketType: 'GA', totalQuantity: 5, price: 10, currency: 'EUR' }]);
    const placed = await place(eventId, 'GA', 1, 'tok_slow');
    await eventually(
      () => http<{ state: string }>(service.baseUrl, 'GET', `/sagas/${placed.body.orderId}`, undefined, as.operator()),
      (r) => r.body.state !== 'reserving',
      15000,
    );
    const compensated = await http(
      service.baseUrl,
      'POST',
      `/ops/sagas/${placed.body.orderId}/compensate`,
      { reason: 'venue cancelled' },
      as.repair('ann'),
    );
    expect(compensated.status).toBe(202);
    // On its way (releasing seats, settling the charge) or done: either way the cancel is answered 202.
    const early = await http<{ status: string }>(
      service.baseUrl,
      'POST',
      `/orders/${placed.body.orderId}/cancel`,
      {},
      as.customer('c-edge'),
    );
    expect(early.status).toBe(202);
    expect((await finalOrder(placed.body.orderId)).body.status).toBe('CANCELLED');
    expect(await outcomeOf(placed.body.orderId)).toBe('compensated');
    expect(
      (await http(service.baseUrl, 'POST', `/orders/${placed.body.orderId}/cancel`, {}, as.customer('c-edge'))).status,
    ).toBe(202);
  });

  it('after a declined card: 202; after a sold-out failure: 409', async () => {
    const eventId = await newEvent([{ ticketType: 'GA', totalQuantity: 1, price: 10, currency: 'EUR' }]);
    const declined = await place(eventId, 'GA', 1, 'tok_declined');
    expect((await finalOrder(declined.body.orderId)).body.status).toBe('CANCELLED');
    expect(await outcomeOf(declined.body.orderId)).toBe('declined');
    expect(
      (await http(service.baseUrl, 'POST', `/orders/${declined.body.orderId}/cancel`, {}, as.customer('c-edge')))
        .status,
    ).toBe(202);

    const tooMany = await place(eventId, 'GA', 2, 'tok_success');
    expect((await finalOrder(tooMany.body.orderId)).body.status).toBe('FAILED');
    expect(
      (await http(service.baseUrl, 'POST', `/orders/${tooMany.body.orderId}/cancel`, {}, as.customer('c-edge'))).status,
    ).toBe(409);
  });
});

it('the notice of a free order is the only customer message, once', async () => {
  const eventId = await newEvent([{ ticketType: 'FREE', totalQuantity: 3, price: 0, currency: 'EUR' }]);
  const placed = await place(eventId, 'FREE', 1, 'tok_success');
  await finalOrder(placed.body.orderId);
  expect(await readNotification(service.core.participantDeps, `${placed.body.orderId}:SendNotification`)).toMatchObject(
    { template: 'order-completed' },
  );
});
