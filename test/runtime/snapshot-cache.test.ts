/**
 * A worker keeps the snapshot it just wrote (issue 25, decision 4), on the real engines: two
 * runtimes (two workers, each with its own cache) over one DynamoDB table; one writes behind the
 * other's back. The next event on the worker that wrote last skips the read; a stale copy is
 * caught by the conditional write (or, when it would have ignored the event, by an exact re-read)
 * and the saga is reloaded: nothing is applied twice, nothing is lost.
 */
import winston from 'winston';
import { Dispatcher } from '../../src/runtime/dispatcher';
import { resolveQueueUrls } from '../../src/messaging/queues';
import { SagaRuntime } from '../../src/runtime/saga-runtime';
import { SnapshotCache } from '../../src/runtime/snapshot-cache';
import { SagaStore, type StoredSaga } from '../../src/store/saga-store';
import { createTestAws, type TestAws } from '../support/aws';

let aws: TestAws;
let dispatcher: Dispatcher;

beforeAll(async () => {
  aws = await createTestAws('sc');
  dispatcher = new Dispatcher(aws.clients.sqs, await resolveQueueUrls(aws.clients.sqs, aws.names));
});
afterAll(async () => {
  await aws?.cleanup();
});

/** The saga store on the test's tables, counting its strongly consistent loads. */
class CountingStore extends SagaStore {
  loads = 0;
  constructor() {
    super(aws.clients.doc, aws.names.tables);
  }
  override async load(orderId: string): Promise<StoredSaga | undefined> {
    this.loads += 1;
    return super.load(orderId);
  }
}

function worker() {
  const store = new CountingStore();
  const snapshots = new SnapshotCache(100);
  const runtime = new SagaRuntime({
    store,
    dispatcher,
    logger: winston.createLogger({ silent: true }),
    holdSeconds: 600,
    snapshots,
  });
  return { store, snapshots, runtime };
}

const reply = (orderId: string, command: string) => `${orderId}:${command}:reply`;

it('the next event on the worker that wrote last skips the read; a copy gone stale behind its back is reloaded', async () => {
  const a = worker();
  const b = worker();
  const orderId = `o-${Date.now().toString(36)}`;
  await a.runtime.place({
    orderId,
    customerId: 'c1',
    eventId: 'e1',
    items: [{ ticketType: 'GA', quantity: 2 }],
    paymentToken: 'tok_success',
    correlationId: `corr-${orderId}`,
    requestHash: 'h1',
  });

  // A wrote version 1: its next event starts from the kept copy, no read.
  const reserved = {
    type: 'SEATS_RESERVED',
    reservationId: orderId,
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    amountMinor: 5000,
    currency: 'EUR',
  } as const;
  expect(await a.runtime.deliver(orderId, reply(orderId, 'ReserveSeats'), reserved)).toBe('applied');
  expect(a.store.loads).toBe(0);

  // B applies the payment behind A's back (B has no copy: it reads). A still keeps version 2.
  const captured = { type: 'PAYMENT_CAPTURED', paymentId: 'p1', amountMinor: 5000, currency: 'EUR' } as const;
  expect(await b.runtime.deliver(orderId, reply(orderId, 'ChargePayment'), captured)).toBe('applied');
  expect(b.store.loads).toBe(1);

  // The same reply reaches A (a duplicate delivery). On its stale copy the event looks new: the
  // commit, conditional on version 2, fails; A reloads and finds it applied.
  expect(await a.runtime.deliver(orderId, reply(orderId, 'ChargePayment'), captured)).toBe('duplicate');
  expect(a.store.loads).toBe(1);
  expect((await a.store.load(orderId))!.sagaVersion).toBe(3);
  a.store.loads = 0;

  // A takes the next step (confirming -> notifying) from an exact read and keeps version 4.
  expect(await a.runtime.deliver(orderId, reply(orderId, 'ConfirmSeats'), { type: 'SEATS_CONFIRMED' })).toBe('applied');
  expect(a.store.loads).toBe(1);

  // B still keeps version 3 (confirming), where NOTIFICATION_SENT is ignored. Ignoring it on a
  // stale copy would lose it: B re-reads, finds notifying, applies it.
  b.store.loads = 0;
  expect(
    await b.runtime.deliver(orderId, reply(orderId, 'SendNotification'), {
      type: 'NOTIFICATION_SENT',
      notificationId: 'n1',
    }),
  ).toBe('applied');
  expect(b.store.loads).toBe(1);

  const final = (await a.store.load(orderId))!;
  expect(final.sagaState).toBe('completed');
  expect(final.sagaVersion).toBe(5);
  // Every event once, versions contiguous.
  const history = await a.store.history(orderId);
  expect(history.map((h) => h.version)).toEqual([1, 2, 3, 4, 5]);
  expect(history.map((h) => h.eventType)).toEqual([
    'ORDER_PLACED',
    'SEATS_RESERVED',
    'PAYMENT_CAPTURED',
    'SEATS_CONFIRMED',
    'NOTIFICATION_SENT',
  ]);
  // An ended saga is not kept.
  expect(b.snapshots.get(orderId)).toBeUndefined();
});

describe('SnapshotCache', () => {
  const saga = (orderId: string) => ({ orderId, sagaVersion: 1 }) as StoredSaga;

  it('keeps at most maxEntries sagas, evicting the least recently used', () => {
    const cache = new SnapshotCache(2);
    cache.remember(saga('a'));
    cache.remember(saga('b'));
    expect(cache.get('a')?.orderId).toBe('a'); // a is now the most recently used
    cache.remember(saga('c'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.orderId).toBe('a');
    expect(cache.get('c')?.orderId).toBe('c');
    expect(cache.stats()).toEqual({ size: 2, hits: 3, misses: 1 });
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new SnapshotCache(0)).toThrow(RangeError);
  });
});
