/**
 * The version check of an operator action is the store's condition, not a read before the write:
 * a runtime whose read still sees the version the operator was shown (the saga moved on between
 * that read and the write) gets StaleSagaVersionError from the conditional commit, retries
 * nothing, and leaves the saga as the other writer left it. Real DynamoDB (emulator).
 */
import { compensateSaga, retrySaga } from '../../src/ops/stuck-sagas';
import { SagaRuntime, StaleSagaVersionError } from '../../src/runtime/saga-runtime';
import { SagaStore, type StoredSaga } from '../../src/store/saga-store';
import { eventually, newEvent, placeOrder, startTestService, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ PAYMENT_SLOW_MS: '10000' }, { label: 'opa' });
});
afterAll(async () => {
  await service?.stop();
});

/** A store whose reads of `orderId` return `stale` (what the operator was shown); writes are real. */
class StaleReads extends SagaStore {
  constructor(
    private readonly stale: StoredSaga,
    base: TestService,
  ) {
    super(base.core.clients.doc, base.core.names.tables);
  }
  override async load(orderId: string): Promise<StoredSaga | undefined> {
    return orderId === this.stale.orderId ? structuredClone(this.stale) : super.load(orderId);
  }
}

it('compensate and retry at a version that moved on between the read and the write: refused by the conditional write', async () => {
  const eventId = await newEvent(service.core, 5, 20);
  const orderId = await placeOrder(service.core, { eventId, paymentToken: 'tok_slow' });
  const shown = await eventually(
    () => service.core.store.load(orderId),
    (s) => s?.sagaState === 'awaitingPayment',
    60000,
  );
  // Another operator acts first: the saga is one version further.
  await retrySaga({ store: service.core.store, runtime: service.core.runtime }, orderId, {
    by: 'operator:first',
    reason: 'first',
  });
  const moved = (await service.core.store.load(orderId))!;
  expect(moved.sagaVersion).toBe(shown!.sagaVersion + 1);

  const store = new StaleReads(shown!, service);
  const runtime = new SagaRuntime({
    store,
    dispatcher: service.core.dispatcher,
    logger: service.core.logger,
    holdSeconds: 60,
  });
  const operator = { by: 'operator:late', reason: 'late', expectedVersion: shown!.sagaVersion };
  await expect(compensateSaga({ store, runtime }, orderId, operator)).rejects.toBeInstanceOf(StaleSagaVersionError);
  await expect(retrySaga({ store, runtime }, orderId, operator)).rejects.toBeInstanceOf(StaleSagaVersionError);

  const after = (await service.core.store.load(orderId))!;
  expect(after.sagaVersion).toBe(moved.sagaVersion);
  expect(after.sagaState).toBe('awaitingPayment');
  const history = await service.core.store.history(orderId);
  expect(history.map((h) => h.actor).filter(Boolean)).toEqual(['operator:first']);
});
