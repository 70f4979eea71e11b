/**
 * The saga runtime's branches, fast and without an emulator (issue 24): a lost race on the
 * version (conflict), a redelivered event (duplicate), a saga on a machine version this build
 * lacks (version wait, and the wait's end), an unknown saga. The runtime runs as it does in the
 * service, over an in-memory implementation of its store port (test/support/in-memory-saga-store.ts);
 * the same behaviour on DynamoDB + SQS is covered by test/e2e (saga-runtime, duplicate-delivery,
 * unknown-machine-version), which stay on the real engines.
 */
import winston from 'winston';
import { REDRIVE_MAX_RECEIVE_COUNT } from '../../src/infra/resources';
import { SagaRuntime, StaleSagaVersionError, UnknownSagaError } from '../../src/runtime/saga-runtime';
import {
  MachineVersionUnavailableError,
  MachineVersionWaitExhaustedError,
  versionWaitDelayMs,
} from '../../src/runtime/version-wait';
import { InMemorySagaStore, SentCommands } from '../support/in-memory-saga-store';

const NOW = new Date('2026-11-25T09:50:00.000Z');

function setup(store = new InMemorySagaStore(), dispatcher = new SentCommands()) {
  const runtime = new SagaRuntime({
    store,
    dispatcher,
    logger: winston.createLogger({ silent: true }),
    holdSeconds: 600,
    versionWaitBaseMs: 1000,
    now: () => NOW,
  });
  return { store, dispatcher, runtime };
}

async function placed(runtime: SagaRuntime, orderId = 'o1') {
  const { saga } = await runtime.place({
    orderId,
    customerId: 'c1',
    eventId: 'e1',
    items: [{ ticketType: 'GA', quantity: 2 }],
    paymentToken: 'tok_success',
    correlationId: `corr-${orderId}`,
    requestHash: 'h1',
  });
  return saga;
}

const reserved = (orderId: string) =>
  ({
    type: 'SEATS_RESERVED',
    reservationId: orderId,
    expiresAt: '2026-11-25T10:00:00.000Z',
    amountMinor: 5000,
    currency: 'EUR',
  }) as const;
const RESERVED_REPLY = 'o1:ReserveSeats:reply';

describe('SagaRuntime over its store port', () => {
  it('places an order once; any request again under the same id gets the existing saga, its fingerprint for the caller to compare', async () => {
    const { store, dispatcher, runtime } = setup();
    const first = await placed(runtime);
    expect(first.sagaVersion).toBe(1);
    expect(dispatcher.kinds()).toEqual(['ReserveSeats']);
    const again = await runtime.place({ ...(await store.load('o1'))!, paymentToken: 'tok_success' });
    expect(again.created).toBe(false);
    // The Idempotency-Key rule is the use case's (src/orders/place-order.ts): the runtime only
    // returns what the id holds, the first request's fingerprint with it.
    const other = await runtime.place({
      ...(await store.load('o1'))!,
      paymentToken: 'tok_success',
      requestHash: 'other',
    });
    expect(other).toMatchObject({ created: false, saga: { orderId: 'o1', requestHash: 'h1', sagaVersion: 1 } });
    expect(dispatcher.kinds()).toEqual(['ReserveSeats']);
  });

  it('conflict: another writer commits first; the runtime reloads and finds the event applied (duplicate)', async () => {
    const { store, dispatcher, runtime } = setup();
    await placed(runtime);
    // A second worker received the same reply and commits it between this worker's load and commit.
    const other = setup(store, dispatcher).runtime;
    store.raceNextCommit(async () => {
      expect(await other.deliver('o1', RESERVED_REPLY, reserved('o1'))).toBe('applied');
    });
    expect(await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).toBe('duplicate');
    const saga = (await store.load('o1'))!;
    expect(saga.sagaVersion).toBe(2);
    expect(saga.sagaState).toBe('awaitingPayment');
    expect(store.steps.map((s) => s.step.eventId)).toEqual([RESERVED_REPLY]);
  });

  it('conflict: a different event wins the race; the runtime reloads and applies its own on top', async () => {
    const { store, runtime } = setup();
    await placed(runtime);
    store.raceNextCommit(async () => {
      await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'));
    });
    const outcome = await runtime.request(
      'o1',
      'cancel-1',
      { type: 'CANCEL_REQUESTED', by: 'c1', reason: 'changed my mind' },
      'c1',
    );
    expect(outcome).toMatchObject({ accepted: true, replayed: false });
    expect(store.steps.map((s) => [s.version, s.step.eventId])).toEqual([
      [2, RESERVED_REPLY],
      [3, 'cancel-1'],
    ]);
  });

  it('conflict: a request bound to the version it was shown is refused, not re-applied, when the saga moved', async () => {
    const { store, runtime } = setup();
    await placed(runtime);
    store.raceNextCommit(async () => {
      await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'));
    });
    const cancel = { type: 'CANCEL_REQUESTED', by: 'op', reason: 'fraud' } as const;
    await expect(runtime.request('o1', 'cancel-op', cancel, 'op', 1)).rejects.toEqual(
      new StaleSagaVersionError('o1', 1, 2),
    );
    // Shown an older version than the current one: refused before deciding anything.
    await expect(runtime.request('o1', 'cancel-op', cancel, 'op', 1)).rejects.toBeInstanceOf(StaleSagaVersionError);
    expect((await store.load('o1'))!.sagaVersion).toBe(2);
  });

  it('projection behind: the commit stands, the load reads it, and the redelivery rolls the order item forward', async () => {
    const { store, dispatcher, runtime } = setup();
    await placed(runtime);
    store.dropNextProjections(1); // the worker "dies" between the commit and the projection update
    expect(await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).toBe('applied');
    expect(store.projections.get('o1')!.sagaVersion).toBe(1);
    const exact = (await store.load('o1'))!;
    expect(exact).toMatchObject({ sagaVersion: 2, sagaState: 'awaitingPayment', projectedVersion: 1 });
    dispatcher.sent.length = 0;

    expect(await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).toBe('duplicate');
    expect(store.projections.get('o1')).toMatchObject({ sagaVersion: 2, sagaState: 'awaitingPayment' });
    expect(store.projections.get('o1')!.projectedVersion).toBeUndefined();
    expect((await store.load('o1'))!.projectedVersion).toBeUndefined();
    // The outbox went out again (but for the timer the event answered, none here), as after any crash.
    expect(dispatcher.kinds()).toEqual(exact.saga.outbox.map((c) => c.kind));
  });

  it('projection behind: the next step decides on the commit, not the lagging item, and its projection catches the item up', async () => {
    const { store, runtime } = setup();
    await placed(runtime);
    store.dropNextProjections(1);
    await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'));
    expect(store.projections.get('o1')!.sagaVersion).toBe(1);
    const cancel = { type: 'CANCEL_REQUESTED', by: 'c1', reason: 'changed my mind' } as const;
    expect(await runtime.request('o1', 'cancel-1', cancel, 'c1')).toMatchObject({ accepted: true });
    expect(store.projections.get('o1')!.sagaVersion).toBe(3);
    expect(store.steps.map((s) => s.version)).toEqual([2, 3]);
  });

  it('duplicate: a redelivered last event re-sends the outbox but the command it answered; an earlier one sends nothing', async () => {
    const { store, dispatcher, runtime } = setup();
    await placed(runtime);
    expect(await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).toBe('applied');
    const outbox = (await store.load('o1'))!.saga.outbox.map((c) => c.kind);
    dispatcher.sent.length = 0;

    expect(await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).toBe('duplicate');
    expect(dispatcher.kinds()).toEqual(outbox);

    await runtime.deliver('o1', 'o1:ChargePayment:reply', {
      type: 'PAYMENT_CAPTURED',
      paymentId: 'p1',
      amountMinor: 5000,
      currency: 'EUR',
    });
    dispatcher.sent.length = 0;
    expect(await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).toBe('duplicate');
    expect(dispatcher.sent).toEqual([]);
    expect(store.steps).toHaveLength(2);
  });

  it('unknown version: the event waits (a retry with a growing delay), the saga is marked, nothing is applied', async () => {
    const { store, runtime } = setup();
    const saga = await placed(runtime);
    store.put({ ...saga, saga: { ...saga.saga, machineVersion: '99' } });

    const first = runtime.deliver('o1', RESERVED_REPLY, reserved('o1'), 1);
    await expect(first).rejects.toBeInstanceOf(MachineVersionUnavailableError);
    await expect(first).rejects.toMatchObject({ retryAfterMs: versionWaitDelayMs(1, 1000), machineVersion: '99' });
    await expect(runtime.deliver('o1', RESERVED_REPLY, reserved('o1'), 3)).rejects.toMatchObject({
      retryAfterMs: versionWaitDelayMs(3, 1000),
    });
    expect((await store.load('o1'))!.versionWait).toMatchObject({
      machineVersion: '99',
      eventType: 'SEATS_RESERVED',
      seen: 2,
    });
    expect(store.steps).toEqual([]);
  });

  it('unknown version: the delivery SQS would dead-letter without a reason is dead-lettered with one', async () => {
    const { store, runtime } = setup();
    const saga = await placed(runtime);
    store.put({ ...saga, saga: { ...saga.saga, machineVersion: '99' } });
    await expect(
      runtime.deliver('o1', RESERVED_REPLY, reserved('o1'), REDRIVE_MAX_RECEIVE_COUNT),
    ).rejects.toBeInstanceOf(MachineVersionWaitExhaustedError);
    expect(store.steps).toEqual([]);
  });

  it('the unprojected step (SEATS_CONFIRMED): the item stays behind on a redelivery, is caught up by the next step, and rolled forward for a version-wait mark', async () => {
    const { store, dispatcher, runtime } = setup();
    await placed(runtime);
    await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'));
    const captured = { type: 'PAYMENT_CAPTURED', paymentId: 'p1', amountMinor: 5000, currency: 'EUR' } as const;
    await runtime.deliver('o1', 'o1:ChargePayment:reply', captured);
    expect(await runtime.deliver('o1', 'o1:ConfirmSeats:reply', { type: 'SEATS_CONFIRMED' })).toBe('applied');
    expect(store.projections.get('o1')).toMatchObject({ sagaState: 'confirming', sagaVersion: 3 });
    expect(await store.load('o1')).toMatchObject({ sagaState: 'notifying', sagaVersion: 4, projectedVersion: 3 });

    // Redelivered: applied before, the outbox re-sent, the item left where the rule leaves it.
    dispatcher.sent.length = 0;
    expect(await runtime.deliver('o1', 'o1:ConfirmSeats:reply', { type: 'SEATS_CONFIRMED' })).toBe('duplicate');
    expect(dispatcher.kinds()).toEqual(['SendNotification']);
    expect(store.projections.get('o1')!.sagaVersion).toBe(3);

    // The next reply finds the saga on a machine version this build lacks: the wait is marked on
    // the item, which needs the item at the commit's version first.
    const committed = store.sagas.get('o1')!;
    store.sagas.set('o1', { ...committed, saga: { ...committed.saga, machineVersion: '99' } });
    const sent = { type: 'NOTIFICATION_SENT', notificationId: 'n1' } as const;
    await expect(runtime.deliver('o1', 'o1:SendNotification:reply', sent)).rejects.toBeInstanceOf(
      MachineVersionUnavailableError,
    );
    expect(store.projections.get('o1')).toMatchObject({ sagaState: 'notifying', sagaVersion: 4 });
    expect((await store.load('o1'))!.versionWait).toMatchObject({
      machineVersion: '99',
      eventType: 'NOTIFICATION_SENT',
    });

    // Readable again: the final step is applied and projected.
    store.put({ ...(await store.load('o1'))!, saga: committed.saga });
    expect(await runtime.deliver('o1', 'o1:SendNotification:reply', sent)).toBe('applied');
    expect(store.projections.get('o1')).toMatchObject({ sagaState: 'completed', sagaVersion: 5 });
  });

  it('version wait: a direct reply queues behind the waiting events; once readable, the mark goes and events apply', async () => {
    const { store, runtime } = setup();
    const saga = await placed(runtime);
    store.put({ ...saga, saga: { ...saga.saga, machineVersion: '99' } });
    await expect(runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).rejects.toBeInstanceOf(
      MachineVersionUnavailableError,
    );
    expect(await runtime.deliverDirect('o1', RESERVED_REPLY, reserved('o1'))).toBe('queue');
    expect(store.steps).toEqual([]);

    // A build that knows the version again (here: the saga is back on one this build has).
    const waiting = (await store.load('o1'))!;
    store.put({ ...waiting, saga: saga.saga });
    expect(await runtime.deliver('o1', RESERVED_REPLY, reserved('o1'), 4)).toBe('applied');
    const after = (await store.load('o1'))!;
    expect(after.versionWait).toBeUndefined();
    expect(after.sagaState).toBe('awaitingPayment');
    expect(await runtime.deliverDirect('o1', 'o1:x', { type: 'SEATS_CONFIRMED' })).not.toBe('queue');
  });

  it('an event for a saga that does not exist is poison (UnknownSagaError), and a request it does not accept is refused', async () => {
    const { runtime, store } = setup();
    await expect(runtime.deliver('nope', 'nope:x', reserved('nope'))).rejects.toBeInstanceOf(UnknownSagaError);
    await placed(runtime);
    await runtime.deliver('o1', RESERVED_REPLY, { type: 'SEATS_UNAVAILABLE', reason: 'sold out' });
    const ended = (await store.load('o1'))!;
    expect(ended.sagaState).toBe('failed');
    const result = await runtime.request('o1', 'cancel-1', { type: 'CANCEL_REQUESTED', by: 'c1', reason: 'x' }, 'c1');
    expect(result).toMatchObject({ accepted: false, replayed: false, saga: { sagaVersion: ended.sagaVersion } });
    expect(store.steps).toHaveLength(1);
  });

  it('gives up after 20 version conflicts in a row instead of looping', async () => {
    const { store, runtime } = setup();
    await placed(runtime);
    let competitors = 0;
    const alwaysFirst = async (): Promise<void> => {
      competitors++;
      const current = (await store.load('o1'))!;
      store.put({ ...current, sagaVersion: current.sagaVersion + 1 });
      store.raceNextCommit(alwaysFirst);
    };
    store.raceNextCommit(alwaysFirst);
    await expect(runtime.deliver('o1', RESERVED_REPLY, reserved('o1'))).rejects.toThrow(/gave up after 20/);
    expect(competitors).toBe(20);
  });
});
