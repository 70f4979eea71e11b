/**
 * The saga store on the emulator: a step is written only on top of the version it was computed
 * from, the history stays contiguous, and AWS's TransactionConflict cancellations are retried.
 */
import { randomUUID } from 'node:crypto';
import { applyEvent, startSaga } from '../../machines/order-saga';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients';
import { SagaStore, VersionConflictError, type StoredSaga } from '../../src/store/saga-store';
import { createTestAws, injectTransactionConflicts, TEST_AWS_CONFIG, type TestAws } from '../support/aws';

let aws: TestAws;
let store: SagaStore;

beforeAll(async () => {
  aws = await createTestAws('st');
  store = new SagaStore(aws.clients.doc, aws.names.tables);
});
afterAll(async () => {
  await aws?.cleanup();
});

async function newSaga(): Promise<StoredSaga> {
  const orderId = randomUUID();
  const items = [{ ticketType: 'GA', quantity: 1 }];
  const decision = startSaga({
    orderId,
    customerId: 'c',
    eventId: 'e',
    items,
    paymentToken: 'tok_success',
    holdSeconds: 60,
  });
  const now = new Date().toISOString();
  return store.create(
    {
      orderId,
      customerId: 'c',
      eventId: 'e',
      items,
      status: decision.status,
      totalAmountMinor: null,
      currency: null,
      createdAt: now,
      updatedAt: now,
      correlationId: 'corr',
      requestHash: 'h',
    },
    decision.saga,
    { eventId: `${orderId}:ORDER_PLACED`, eventType: 'ORDER_PLACED', payload: {} },
    now,
  );
}

const reserved = {
  type: 'SEATS_RESERVED',
  reservationId: 'r',
  expiresAt: '2026-11-25T00:00:00.000Z',
  amountMinor: 1000,
  currency: 'EUR',
} as const;
const step = (eventId: string) => ({ eventId, eventType: 'SEATS_RESERVED', payload: {} });

it('of two writers on the same version, one lands and the other is told to reload', async () => {
  const saga = await newSaga();
  const next = applyEvent(saga.saga, reserved);
  const results = await Promise.allSettled([
    store.commit(saga, next, step('a'), new Date().toISOString()),
    store.commit(saga, next, step('b'), new Date().toISOString()),
  ]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  expect(loser.reason).toBeInstanceOf(VersionConflictError);
  const history = await store.history(saga.orderId);
  expect(history.map((h) => h.version)).toEqual([1, 2]);
  expect((await store.load(saga.orderId))?.sagaVersion).toBe(2);
});

it('retries a step that AWS cancels with TransactionConflict, and writes it once', async () => {
  const saga = await newSaga();
  const clients = createAwsClients(TEST_AWS_CONFIG);
  const conflicts = injectTransactionConflicts(clients, 2);
  try {
    const contended = new SagaStore(clients.doc, aws.names.tables);
    const saved = await contended.commit(saga, applyEvent(saga.saga, reserved), step('x'), new Date().toISOString());
    expect(conflicts.injected).toBe(2);
    expect(saved.sagaVersion).toBe(2);
    expect((await store.history(saga.orderId)).map((h) => [h.version, h.eventId])).toEqual([
      [1, `${saga.orderId}:ORDER_PLACED`],
      [2, 'x'],
    ]);
  } finally {
    destroyAwsClients(clients);
  }
});
