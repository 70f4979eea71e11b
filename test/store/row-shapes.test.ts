/**
 * Rolling out issue 25's size cut (on the emulator): a saga whose latest Events row was written by
 * the build before it — the snapshot whole under `snapshot`, the commands whole — loads exactly
 * over a lagging order item, takes its next steps on this build (rows with `saga`), and its
 * history shows every row's commands whole; in every item format, the 'compact' one included
 * (an item of that format past version 1 leaves the applied event ids to its row).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { applyEvent } from '../../machines/order-saga';
import { stepSnapshot } from '../../src/store/event-snapshot';
import type { OrderItemFormat } from '../../src/store/order-item';
import { recordedCommands, SagaStore, steppedSaga, type StoredSaga } from '../../src/store/saga-store';
import { createTestAws, type TestAws } from '../support/aws';
import { createTestSaga } from '../support/new-saga';

let aws: TestAws;

beforeAll(async () => {
  aws = await createTestAws('rs');
});
afterAll(async () => {
  await aws?.cleanup();
});

const newSaga = (store: SagaStore): Promise<StoredSaga> =>
  createTestSaga(store, { customerId: 'c-1', eventId: 'e-1', quantity: 2 });

/** Commits one step as the build before the size cut did: its Events row only (the item not projected). */
async function previousBuildAppend(
  previous: StoredSaga,
  event: Parameters<typeof applyEvent>[1],
  eventId: string,
  format: OrderItemFormat,
): Promise<StoredSaga> {
  const next = applyEvent(previous.saga, event);
  const now = new Date().toISOString();
  const stored = steppedSaga(previous, next, { eventId }, now, format === 'full' ? 'full' : 'packed');
  const { type: _type, ...payload } = event;
  await aws.clients.doc.send(
    new PutCommand({
      TableName: aws.names.tables.events,
      Item: {
        aggregateId: previous.orderId,
        version: stored.sagaVersion,
        eventType: event.type,
        eventId,
        timestamp: now,
        fromState: previous.sagaState,
        toState: next.saga.state,
        payload,
        correlationId: previous.correlationId,
        machineVersion: next.saga.machineVersion,
        status: next.status,
        outcome: next.saga.context.outcome,
        commands: recordedCommands(next.commands),
        snapshot: stepSnapshot(stored),
      },
      ConditionExpression: 'attribute_not_exists(version)',
    }),
  );
  return stored;
}

describe.each<OrderItemFormat>(['full', 'packed', 'compact'])('ORDER_ITEM_FORMAT=%s', (format) => {
  it('a row of the build before loads exactly; the saga steps on, its history whole', async () => {
    const store = new SagaStore(aws.clients.doc, aws.names.tables, format);
    const created = await newSaga(store);
    const { orderId } = created;
    const reserved = await previousBuildAppend(
      created,
      {
        type: 'SEATS_RESERVED',
        reservationId: orderId,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        amountMinor: 5000,
        currency: 'EUR',
      },
      `${orderId}:ReserveSeats:reply`,
      format,
    );
    // The item lags (still version 1): the load is the old row's snapshot over it.
    const loaded = (await store.load(orderId))!;
    expect(loaded.projectedVersion).toBe(1);
    const { projectedVersion: _lag, projectedState: _state, ...exact } = loaded;
    expect(exact).toEqual(reserved);
    const charge = exact.saga.outbox.find((c) => c.kind === 'ChargePayment');
    expect(charge).toMatchObject({ orderId, commandId: `${orderId}:ChargePayment`, paymentToken: 'tok_success' });

    // This build rolls the item forward, then commits the next step in its own shape.
    expect(await store.project(loaded)).toBe(true);
    const captured = await store.commit(
      (await store.load(orderId))!,
      applyEvent(exact.saga, { type: 'PAYMENT_CAPTURED', paymentId: 'ch-1', amountMinor: 5000, currency: 'EUR' }),
      { eventId: `${orderId}:ChargePayment:reply`, eventType: 'PAYMENT_CAPTURED', payload: {} },
      new Date().toISOString(),
    );
    expect(await store.load(orderId)).toEqual(captured);
    expect(captured).toMatchObject({ sagaVersion: 3, sagaState: 'confirming', totalAmountMinor: 5000 });
    expect(captured.appliedEventIds).toHaveLength(3);
    expect(captured.saga.outbox).toEqual([
      { kind: 'ConfirmSeats', orderId, commandId: `${orderId}:ConfirmSeats`, reservationId: orderId },
    ]);

    const history = await store.history(orderId);
    expect(history.map((h) => h.version)).toEqual([1, 2, 3]);
    for (const entry of history) {
      expect(entry).not.toHaveProperty('saga');
      expect(entry).not.toHaveProperty('snapshot');
      for (const command of entry.commands ?? [])
        expect(command).toMatchObject({ orderId, commandId: `${orderId}:${command.kind}` });
    }
    expect(history[2].commands).toEqual(captured.saga.outbox);
  });
});

it('a step that stays in its state keeps the outbox it waited on: the row stores it, apart from its commands', async () => {
  const store = new SagaStore(aws.clients.doc, aws.names.tables, 'compact');
  const created = await newSaga(store);
  // A cancel while the seats are being reserved is remembered; the saga still waits on ReserveSeats.
  const next = applyEvent(created.saga, { type: 'CANCEL_REQUESTED', by: 'c-1', reason: 'changed my mind' });
  expect(next.saga.state).toBe('reserving');
  expect(next.commands).toEqual([]);
  const appended = await store.append(
    created,
    next,
    { eventId: 'cancel:key-1', eventType: 'CANCEL_REQUESTED', payload: {} },
    new Date().toISOString(),
  );
  const loaded = (await store.load(created.orderId))!;
  expect(loaded.projectedVersion).toBe(1);
  const { projectedVersion: _lag, projectedState: _state, ...exact } = loaded;
  expect(exact).toEqual(appended);
  expect(exact.saga.outbox).toEqual(created.saga.outbox);
  expect(exact.stateEnteredAt).toBe(created.stateEnteredAt);
  expect(exact.appliedEventIds).toEqual([':ORDER_PLACED', 'cancel:key-1']);
});
