/**
 * Every SQS message delivered twice (the copy of a standard-queue message also late, so out of
 * order): every saga ends exactly as it would have, nothing is charged or refunded twice, and
 * each saga's history has no repeated step.
 */
import { readInventoryRows } from '../../src/participants';
import { readPayment } from '../../src/participants/records';
import { eventually, newEvent, placeOrder, startTestService, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService(
    { FAULT_DUPLICATE_RATE: '1', HOLD_SECONDS: '2', PAYMENT_SLOW_MS: '4000' },
    { label: 'd' },
  );
});
afterAll(async () => {
  await service?.stop();
});

const cases = [
  // stock: the row's [available, reservedQuantity, soldQuantity]; a sale stays in reservedQuantity (the seats
  // taken: its confirm writes the reservation alone), soldQuantity is only the previous build's sales.
  { token: 'tok_success', status: 'COMPLETED', outcome: 'completed', payment: 'CAPTURED', stock: [8, 2, 0] },
  { token: 'tok_declined', status: 'CANCELLED', outcome: 'declined', payment: 'DECLINED', stock: [10, 0, 0] },
  { token: 'tok_slow', status: 'CANCELLED', outcome: 'expired', payment: 'REFUNDED', stock: [10, 0, 0] },
] as const;

it.each(cases)(
  '$token twice-delivered ends $status/$outcome, payment $payment',
  async ({ token, status, outcome, payment, stock }) => {
    const eventId = await newEvent(service.core, 10, 30);
    const orderId = await placeOrder(service.core, { eventId, paymentToken: token, quantity: 2, customerId: 'c-dup' });
    const saga = await eventually(
      async () => (await service.core.store.load(orderId))!,
      (s) => ['COMPLETED', 'CANCELLED', 'FAILED'].includes(s.status),
    );
    // Let the late copies arrive and be processed before judging.
    await new Promise((r) => setTimeout(r, 3500));
    const settled = (await service.core.store.load(orderId))!;
    expect(settled.sagaVersion).toBe(saga.sagaVersion);
    expect(settled.status).toBe(status);
    expect(settled.saga.context.outcome).toBe(outcome);

    const history = await service.core.store.history(orderId);
    expect(history.map((h) => h.version)).toEqual(history.map((_, i) => i + 1));
    expect(new Set(history.map((h) => h.eventType)).size).toBe(history.length);

    const record = await readPayment(service.core.participantDeps, orderId);
    expect(record?.status).toBe(payment);
    if (payment === 'REFUNDED') expect(record?.refundedAmountMinor).toBe(6000);
    const row = (await readInventoryRows(service.core.participantDeps, eventId)).get('GA')!;
    expect([row.availableQuantity, row.reservedQuantity, row.soldQuantity]).toEqual(stock);
  },
);
