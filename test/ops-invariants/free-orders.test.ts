/**
 * The invariant checker and free orders (total 0): a completed free order with no payment record
 * is clean; a payment recorded for one is a violation (nothing may be charged). Mixed with a paid
 * order in another currency, the money totals stay exact per currency, in minor units.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { checkInvariants } from '../../tools/invariants';
import type { StoredSaga } from '../../src/store/saga-store';
import { eventually, seedInventory, startTestService, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ LOG_LEVEL: 'error' }, { label: 'if' });
});
afterAll(async () => {
  await service?.stop();
});

async function completedOrder(eventId: string, ticketType: string, quantity: number): Promise<StoredSaga> {
  const orderId = randomUUID();
  await service.core.runtime.place({
    orderId,
    customerId: 'c-free',
    eventId,
    items: [{ ticketType, quantity }],
    paymentToken: 'tok_success',
    correlationId: `corr-${orderId}`,
    requestHash: 'h',
  });
  return eventually(
    async () => (await service.core.store.load(orderId))!,
    (s) => s.status === 'COMPLETED',
    30000,
  );
}

const check = () =>
  checkInvariants({ doc: service.core.clients.doc, tables: service.core.names.tables }, { stuckAfterMs: 60_000 });

it('a completed free order with no payment is clean; a payment recorded for it is a payment-mismatch', async () => {
  const eventId = `ev-${randomUUID()}`;
  await seedInventory(service.core, eventId, [
    { ticketType: 'FREE', totalQuantity: 5, priceMinor: 0, currency: 'EUR' },
    { ticketType: 'KW', totalQuantity: 5, priceMinor: 1234, currency: 'KWD' },
  ]);
  const free = await completedOrder(eventId, 'FREE', 2);
  const paid = await completedOrder(eventId, 'KW', 3);
  expect(free.totalAmountMinor).toBe(0);
  expect(paid.totalAmountMinor).toBe(3702);

  const clean = await check();
  expect(clean.violations).toEqual([]);
  expect(clean.money.byCurrency.KWD).toEqual({ captured: 3702, refunded: 0, completedTotal: 3702 });
  expect(clean.money.byCurrency.EUR).toEqual({ captured: 0, refunded: 0, completedTotal: 0 });

  const now = new Date().toISOString();
  await service.core.clients.doc.send(
    new PutCommand({
      TableName: service.core.names.tables.payments,
      Item: {
        orderId: free.orderId,
        status: 'CAPTURED',
        amountMinor: 0,
        currency: 'EUR',
        chargeId: `ch_${free.orderId}`,
        createdAt: now,
        updatedAt: now,
      },
    }),
  );
  const dirty = await check();
  expect(dirty.violations.map((v) => [v.kind, v.subject])).toEqual([['payment-mismatch', `payment:${free.orderId}`]]);
});
