/**
 * The saga store on the emulator: a step is written only on top of the version it was computed
 * from, the history stays contiguous, and AWS's TransactionConflict cancellations of the create are
 * retried. The Events row is the commit (issue 25): a load reads it over a lagging order item, and
 * the projection only moves forward.
 */
import { randomUUID } from 'node:crypto';
import { applyEvent, startSaga } from '../../machines/order-saga';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients';
import { orderView } from '../../src/api/views';
import { meterClients } from '../../src/observability/cost-meter';
import {
  KeptOrderItems,
  OrderExistsError,
  SagaStore,
  UnfinishedCreateError,
  VersionConflictError,
  type StoredSaga,
} from '../../src/store/saga-store';
import { createTestAws, injectTransactionConflicts, TEST_AWS_CONFIG, type TestAws } from '../support/aws';
import { eventually } from '../support/service';
import { createTestSaga } from '../support/new-saga';
import { LegacySagaStore } from '../support/legacy-saga-store';

let aws: TestAws;
let store: SagaStore;

beforeAll(async () => {
  aws = await createTestAws('st');
  store = new SagaStore(aws.clients.doc, aws.names.tables);
});
afterAll(async () => {
  await aws?.cleanup();
});

const newSaga = (on: SagaStore = store): Promise<StoredSaga> => createTestSaga(on);

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

it('the create is plain writes, no transaction: the Events row first (the claim of the id), then the claims and the order item', async () => {
  const clients = createAwsClients(TEST_AWS_CONFIG);
  const conflicts = injectTransactionConflicts(clients, 2);
  try {
    const saga = await newSaga(new SagaStore(clients.doc, aws.names.tables));
    // Nothing of it was a transaction (the injector cancels the first two it sees).
    expect(conflicts.injected).toBe(0);
    expect(saga.sagaVersion).toBe(1);
    expect((await store.history(saga.orderId)).map((h) => [h.version, h.eventId])).toEqual([
      [1, `${saga.orderId}:ORDER_PLACED`],
    ]);
    expect(await store.load(saga.orderId)).toEqual(saga);
  } finally {
    destroyAwsClients(clients);
  }
});

it('a create that died after its Events row: invisible, told as unfinished (with what it recorded), finished once', async () => {
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
  const createdAt = '2026-12-06T08:00:00.000Z';
  const order = {
    orderId,
    customerId: 'c',
    eventId: 'e',
    items,
    status: decision.status,
    totalAmountMinor: null,
    currency: null,
    createdAt,
    updatedAt: createdAt,
    correlationId: 'corr',
    requestHash: 'first',
    orderNumber: `ET-2026-${orderId.slice(0, 8)}`,
  };
  const step = { eventId: `${orderId}:ORDER_PLACED`, eventType: 'ORDER_PLACED', payload: {} };
  await store.startCreate(order, decision.saga, step, createdAt);
  // The writer died here (SagaRuntime.place's crash point create:after-row).
  expect(await store.load(orderId)).toBeUndefined();
  const again = await store
    .startCreate({ ...order, requestHash: 'second', createdAt: 'later' }, decision.saga, step, 'later')
    .catch((e: unknown) => e);
  expect(again).toBeInstanceOf(UnfinishedCreateError);
  expect(again).toMatchObject({
    created: { requestHash: 'first', orderNumber: order.orderNumber },
    createdAt,
    machineVersion: decision.saga.machineVersion,
  });
  // `created` is the store's: the history shows what happened.
  expect(Object.keys((await store.history(orderId))[0])).not.toContain('created');

  const finished = await store.finishCreate(order, decision.saga, step, createdAt);
  expect(await store.load(orderId)).toEqual(finished);
  expect(finished).toMatchObject({ sagaVersion: 1, createdAt, orderNumber: order.orderNumber });
  // Finished twice (two requests raced): the item is taken.
  await expect(store.finishCreate(order, decision.saga, step, createdAt)).rejects.toBeInstanceOf(OrderExistsError);
  await expect(store.startCreate(order, decision.saga, step, createdAt)).rejects.toBeInstanceOf(OrderExistsError);
});

it('the Events row is the commit: a load reads it over a lagging order item; the projection only moves forward', async () => {
  const saga = await newSaga();
  const appended = await store.append(saga, applyEvent(saga.saga, reserved), step('p1'), new Date().toISOString());
  // Committed, not projected (a worker that died here).
  expect((await store.loadProjection(saga.orderId))?.sagaVersion).toBe(1);
  const exact = (await store.load(saga.orderId))!;
  expect(exact).toMatchObject({
    sagaVersion: 2,
    sagaState: 'awaitingPayment',
    status: 'PROCESSING',
    projectedVersion: 1,
  });
  const { projectedVersion: _v, projectedState: _s, ...committed } = exact;
  expect(committed).toEqual(appended);
  // The token is on the order item only; the commit gives it back whole, outbox included.
  const charge = exact.saga.outbox.find((c) => c.kind === 'ChargePayment');
  expect(charge && 'paymentToken' in charge ? charge.paymentToken : undefined).toBe('tok_success');
  expect(JSON.stringify(await store.history(saga.orderId))).not.toContain('tok_success');

  expect(await store.project(exact)).toBe(true);
  expect(await store.project(exact)).toBe(false);
  const projected = (await store.loadProjection(saga.orderId))!;
  expect(projected.sagaVersion).toBe(2);
  expect(await store.load(saga.orderId)).toEqual(projected);
  // An older version never overwrites a newer projection.
  expect(await store.project(saga)).toBe(false);
  expect((await store.loadProjection(saga.orderId))?.sagaVersion).toBe(2);
});

it.each(['full', 'compact'] as const)(
  'read (GET /orders/:id, %s items): one Query over a kept order item, as exact as load, through a lagging item and an action that moves only updatedAt',
  async (format) => {
    const clients = meterClients(createAwsClients(TEST_AWS_CONFIG));
    const reader = new SagaStore(clients.doc, aws.names.tables, format);
    const kept = new KeptOrderItems();
    const requests = async <T>(read: () => Promise<T>): Promise<[T, Record<string, number>]> => {
      const before = clients.meter.snapshot().requests;
      const value = await read();
      const after = clients.meter.snapshot().requests;
      return [
        value,
        Object.fromEntries(
          Object.entries(after)
            .map(([op, n]) => [op, n - (before[op] ?? 0)])
            .filter(([, n]) => n),
        ),
      ];
    };
    const exactView = async (orderId: string) => orderView((await reader.load(orderId))!);
    try {
      const saga = await createTestSaga(reader);
      // Not kept yet: the item and the row, as load reads them; the item is kept.
      const [first, cold] = await requests(() => reader.read(saga.orderId, kept));
      expect(cold).toEqual({ 'DynamoDB.GetItem': 1, 'DynamoDB.Query': 1 });
      expect(orderView(first!)).toEqual(await exactView(saga.orderId));
      // The kept copy holds no payment token (tokens never leave the order item).
      expect(JSON.stringify(kept.get(saga.orderId))).not.toContain('tok_success');

      // A step committed, not projected (a worker that died between the two): the next read shows it.
      const appended = await reader.append(saga, applyEvent(saga.saga, reserved), step('r1'), new Date().toISOString());
      expect((await reader.loadProjection(saga.orderId))?.sagaVersion).toBe(1);
      const [lagging, warm] = await requests(() => reader.read(saga.orderId, kept));
      expect(warm).toEqual({ 'DynamoDB.Query': 1 });
      expect(lagging).toMatchObject({
        sagaVersion: 2,
        sagaState: 'awaitingPayment',
        status: 'PROCESSING',
        totalAmountMinor: 1000,
        currency: 'EUR',
        updatedAt: appended.updatedAt,
      });
      expect(orderView(lagging!)).toEqual(await exactView(saga.orderId));

      // Projected, then an operator's action that changes only updatedAt, also on a kept item.
      await reader.project(appended);
      const later = new Date(Date.parse(appended.updatedAt) + 1000).toISOString();
      const acted = await reader.recordAction(
        (await reader.load(saga.orderId))!,
        { eventId: 'operator:x', eventType: 'OPERATOR_RETRY', payload: {}, actor: 'operator:t' },
        later,
      );
      const [afterAction, again] = await requests(() => reader.read(saga.orderId, kept));
      expect(again).toEqual({ 'DynamoDB.Query': 1 });
      expect(afterAction).toMatchObject({ sagaVersion: acted.sagaVersion, updatedAt: later, status: 'PROCESSING' });
      expect(orderView(afterAction!)).toEqual(await exactView(saga.orderId));
      // What a reading carries: the order's fields and where the saga stands, never its context.
      expect(Object.keys(afterAction!)).not.toContain('saga');

      // No such order: nothing read is kept.
      expect(await reader.read(randomUUID(), kept)).toBeUndefined();
      expect(kept.size).toBe(1);
    } finally {
      destroyAwsClients(clients);
    }
  },
);

it('read over a kept item that a row of an older build (no snapshot) passed: reads the item again, exact', async () => {
  const kept = new KeptOrderItems();
  const saga = await newSaga();
  await store.read(saga.orderId, kept);
  // A build before issue 25 steps it: item and row in one transaction, the row without a snapshot.
  await new LegacySagaStore(aws.clients.doc, aws.names.tables).append(
    saga,
    applyEvent(saga.saga, reserved),
    step('old-build'),
    new Date().toISOString(),
  );
  const read = await store.read(saga.orderId, kept);
  expect(read).toMatchObject({ sagaVersion: 2, status: 'PROCESSING' });
  expect(orderView(read!)).toEqual(orderView((await store.load(saga.orderId))!));
  expect(kept.get(saga.orderId)?.sagaVersion).toBe(2);
});

it('reads the history after a version, oldest first', async () => {
  const saga = await newSaga();
  const saved = await store.commit(saga, applyEvent(saga.saga, reserved), step('h1'), new Date().toISOString());
  await store.commit(
    saved,
    applyEvent(saved.saga, { type: 'PAYMENT_DECLINED', reason: 'no' }),
    { eventId: 'h2', eventType: 'PAYMENT_DECLINED', payload: {} },
    new Date().toISOString(),
  );
  expect((await store.history(saga.orderId)).map((h) => h.version)).toEqual([1, 2, 3]);
  expect((await store.history(saga.orderId, 1)).map((h) => [h.version, h.eventId])).toEqual([
    [2, 'h1'],
    [3, 'h2'],
  ]);
  expect(await store.history(saga.orderId, 3)).toEqual([]);
});

it('reads StatusOrdersIndex by status and creation key: pages, bounds, counts, and the stale ids before a time without an index on updatedAt', async () => {
  const sagas = [await newSaga(), await newSaga(), await newSaga()];
  const { status } = sagas[0];
  const ids = new Set(sagas.map((s) => s.orderId));
  const first = sagas.map((s) => s.createdAt).sort()[0];
  const after = new Date(Date.parse(sagas.map((s) => s.updatedAt).sort()[2]) + 1).toISOString();
  const mine = (rows: Array<{ orderId: string }>) => rows.filter((r) => ids.has(r.orderId)).map((r) => r.orderId);

  // The index may lag behind the base table (a GSI): wait, bounded, until it shows all three.
  await eventually(
    () => store.idsInStatusUpdatedBefore(status, after),
    (found) => sagas.every((s) => found.includes(s.orderId)),
  );
  expect((await store.idsInStatusUpdatedBefore(status, first)).filter((id) => ids.has(id))).toEqual([]);

  const oldestFirst = await store.createdInStatus(status, { since: first, before: after });
  expect(mine(oldestFirst.rows)).toHaveLength(3);
  const keys = oldestFirst.rows.map((r) => r.createdKey);
  expect(keys).toEqual([...keys].sort());
  const newestFirst = await store.createdInStatus(status, { since: first, newestFirst: true });
  expect(mine(newestFirst.rows)).toEqual(mine(oldestFirst.rows).reverse());

  // Paged one row at a time, the walk finds the same rows.
  const walked: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.createdInStatus(status, { since: first, before: after, limit: 1, startKey });
    walked.push(...mine(page.rows));
    startKey = page.nextKey;
  } while (startKey);
  expect(walked).toEqual(mine(oldestFirst.rows));

  // `before` (a createdKey, a cursor) is exclusive.
  const last = oldestFirst.rows.filter((r) => ids.has(r.orderId)).at(-1)!;
  expect(mine((await store.createdInStatus(status, { since: first, before: last.createdKey })).rows)).not.toContain(
    last.orderId,
  );
  expect(mine((await store.createdInStatus(status, { before: last.createdKey, newestFirst: true })).rows)).toEqual(
    mine(newestFirst.rows).filter((id) => id !== last.orderId),
  );

  expect(await store.countCreatedInStatusSince(status, first)).toBeGreaterThanOrEqual(3);
  expect(await store.countCreatedInStatusSince(status, after)).toBe(
    (await store.createdInStatus(status, { since: after })).rows.length,
  );

  // A saga that steps after the cutoff is no longer stale, though it was created before it.
  const stepped = sagas[1];
  const cutoff = new Date(Date.parse(after) + 1).toISOString();
  const moved = await store.recordAction(
    stepped,
    { eventId: `${stepped.orderId}:retry`, eventType: 'OPERATOR_RETRY', payload: {} },
    new Date(Date.parse(cutoff) + 1000).toISOString(),
  );
  expect(moved.status).toBe(status);
  expect(moved.updatedAt > cutoff).toBe(true);
  const stale = await store.idsInStatusUpdatedBefore(status, cutoff);
  expect(stale).toEqual(expect.arrayContaining([sagas[0].orderId, sagas[2].orderId]));
  expect(stale).not.toContain(stepped.orderId);
});
