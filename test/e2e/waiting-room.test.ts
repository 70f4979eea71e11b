/**
 * The waiting room through the whole service: past the event's limit, orders wait their turn
 * (202 QUEUED with a position), are admitted in arrival order as earlier sagas end, a cancel frees
 * the place, and with Redis down every order is admitted (never a 500).
 */
import { randomUUID } from 'node:crypto';
import { as } from '../support/auth';
import { http, postOrder } from '../support/http';
import { eventually, startTestService, type TestService } from '../support/service';

const FINAL = ['COMPLETED', 'CANCELLED', 'FAILED'];

describe('with Redis', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ PAYMENT_SLOW_MS: '8000', HOLD_SECONDS: '60' }, { label: 'wr' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('keeps arrival order, tells positions, and frees the place of a buyer who leaves', async () => {
    const eventId = `ev-${randomUUID()}`;
    expect(
      (
        await http(
          service.baseUrl,
          'PUT',
          `/events/${eventId}/inventory`,
          {
            eventName: 'Flash',
            ticketTypes: [{ ticketType: 'GA', totalQuantity: 50, price: 10, currency: 'EUR', shards: 2 }],
          },
          as.organizer(),
        )
      ).status,
    ).toBe(200);
    expect(
      (await http(service.baseUrl, 'PUT', `/events/${eventId}/admission`, { maxActiveOrders: 2 }, as.organizer())).body,
    ).toEqual({ eventId, maxActiveOrders: 2 });

    // tok_slow: each saga takes over 8 s, so the first two hold the places while the rest arrive (even on a slow
    // machine).
    const answers = [];
    for (let i = 0; i < 6; i++) {
      answers.push(
        await postOrder<Record<string, unknown>>(service.baseUrl, {
          customerId: `buyer-${i}`,
          eventId,
          paymentToken: 'tok_slow',
        }),
      );
    }
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(answers.map((a) => a.body.status)).toEqual(['PENDING', 'PENDING', 'QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
    expect(answers.slice(2).map((a) => a.body.position)).toEqual([1, 2, 3, 4]);
    const ids = answers.map((a) => String(a.body.orderId));

    // The second in the queue leaves; the ones behind move up.
    const left = await http(service.baseUrl, 'POST', `/orders/${ids[3]}/cancel`, {}, as.customer('buyer-3'));
    expect(left.status).toBe(202);
    expect(left.body).toMatchObject({ orderId: ids[3], status: 'CANCELLED' });
    const fifth = await http<{ status: string; position: number; estimatedWaitSeconds: number }>(
      service.baseUrl,
      'GET',
      `/orders/${ids[4]}/queue`,
      undefined,
      as.operator(),
    );
    expect(fifth.status).toBe(200);
    expect(fifth.body).toMatchObject({ status: 'QUEUED', position: 2 });
    expect(fifth.body.estimatedWaitSeconds).toBeGreaterThanOrEqual(1);

    // Never more than 2 sagas open at once, until every admitted order ended.
    let mostOpen = 0;
    const admitted = [0, 1, 2, 4, 5].map((i) => ids[i]);
    const sagas = await eventually(
      async () => {
        const loaded = await Promise.all(admitted.map((id) => service.core.store.load(id)));
        mostOpen = Math.max(mostOpen, loaded.filter((s) => s && !FINAL.includes(s.status)).length);
        return loaded;
      },
      (loaded) => loaded.every((s) => s && FINAL.includes(s.status)),
      150_000,
    );
    expect(mostOpen).toBeLessThanOrEqual(2);
    expect(sagas.map((s) => s!.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    // Admitted in arrival order: the queued ones' sagas were created in the order they came.
    const created = sagas.slice(2).map((s) => Date.parse(s!.createdAt));
    expect([...created].sort((a, b) => a - b)).toEqual(created);
    // The one who left never got a saga.
    expect(await service.core.store.load(ids[3])).toBeUndefined();
    expect((await http(service.baseUrl, 'GET', `/orders/${ids[3]}/queue`, undefined, as.operator())).status).toBe(404);
    expect(
      (await http(service.baseUrl, 'GET', `/orders/${ids[5]}/queue`, undefined, as.operator())).body,
    ).toMatchObject({ status: 'ADMITTED' });
  }, 240_000);
});

describe('with Redis down', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService(
      { REDIS_URL: 'redis://127.0.0.1:6390', ADMISSION_MAX_ACTIVE_ORDERS: '1' },
      { label: 'wrd' },
    );
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('admits every order, never a 500', async () => {
    const eventId = `ev-${randomUUID()}`;
    await http(
      service.baseUrl,
      'PUT',
      `/events/${eventId}/inventory`,
      {
        eventName: 'Flash',
        ticketTypes: [{ ticketType: 'GA', totalQuantity: 5, price: 10, currency: 'EUR' }],
      },
      as.organizer(),
    );
    const answers = await Promise.all(
      [0, 1, 2].map((i) =>
        postOrder<Record<string, unknown>>(service.baseUrl, {
          customerId: `b-${i}`,
          eventId,
          paymentToken: 'tok_success',
        }),
      ),
    );
    expect(answers.map((a) => [a.status, a.body.status])).toEqual([
      [202, 'PENDING'],
      [202, 'PENDING'],
      [202, 'PENDING'],
    ]);
    expect(
      (await http(service.baseUrl, 'GET', `/orders/${String(answers[0].body.orderId)}/queue`, undefined, as.operator()))
        .body,
    ).toMatchObject({ status: 'ADMITTED' });
    expect((await http(service.baseUrl, 'GET', `/orders/${randomUUID()}/queue`, undefined, as.operator())).status).toBe(
      404,
    );
    expect(
      (await http(service.baseUrl, 'PUT', `/events/${eventId}/admission`, { maxActiveOrders: 3 }, as.organizer()))
        .status,
    ).toBe(503);
  });
});
