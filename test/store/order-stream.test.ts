/**
 * The TicketOrders stream's tail (src/store/order-stream.ts) on the real engine: a step written
 * through another set of clients (standing in for a worker in another process) reaches the
 * subscriber from the stream, in order; a write that does not move the saga (a resend lease) is
 * not a step; the buffer serves a resume after a step it holds and declines one older than the
 * tail; the tail stops after its last subscriber leaves (lingerMs) and starts again on the next.
 *
 * A fresh table's shard holds no record when the tail opens it: on DynamoDB Local the first read
 * after the first write throws TrimmedDataAccessException (the quirk in src/store/order-stream.ts's
 * docstring; moto does not throw). The first test shows that is not a gap; the second, with the
 * tail's clock moved 25 h on after it opened, that the same exception is one (the tail cannot prove
 * nothing was trimmed) and that the re-read from TRIM_HORIZON still delivers each step once.
 */

import { createAwsClients, destroyAwsClients, type AwsClients } from '../../src/aws/clients';
import { OrderStreamTail, type OrderStreamEvent } from '../../src/store/order-stream';
import { SagaStore, type StoredSaga } from '../../src/store/saga-store';
import { createTestAws, TEST_AWS_CONFIG, type TestAws } from '../support/aws';
import { eventually } from '../support/service';
import { createTestSaga } from '../support/new-saga';

jest.setTimeout(120_000);

let aws: TestAws;
/** The writer's own clients: another connection pool, as a worker process has. */
let writerClients: AwsClients;
let writer: SagaStore;
/** Whether the engine threw TrimmedDataAccessException in the first test (DynamoDB Local: yes). */
let engineTrimsFreshShards: boolean | undefined;
const TRIMMED_GAP = { kind: 'gap', reason: 'records were trimmed before they were read (24 h)' };

beforeAll(async () => {
  aws = await createTestAws('ost');
  writerClients = createAwsClients(TEST_AWS_CONFIG);
  writer = new SagaStore(writerClients.doc, aws.names.tables);
});
afterAll(async () => {
  destroyAwsClients(writerClients);
  await aws?.cleanup();
});

const newSaga = (): Promise<StoredSaga> => createTestSaga(writer);

it('delivers the steps another writer makes, in order, each once; a resume is served from the buffer after a step it holds', async () => {
  const tail = new OrderStreamTail({
    ddb: aws.clients.ddb,
    streams: aws.clients.streams,
    tableName: aws.names.tables.orders,
    busyMs: 100,
    idleMs: 300,
    lingerMs: 200,
    warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
  });
  const warnings: string[] = [];
  const events: OrderStreamEvent[] = [];
  const unsubscribe = tail.subscribe((e) => events.push(e));
  try {
    await eventually(
      async () => tail.readingSince,
      (since) => since !== undefined,
      30000,
    );
    const created = await newSaga();
    const retried = await writer.recordAction(
      created,
      { eventId: `${created.orderId}:retry`, eventType: 'OPERATOR_RETRY', payload: {}, actor: 'op' },
      new Date(Date.parse(created.updatedAt) + 1).toISOString(),
    );
    // Not a step: the lease leaves the version and updatedAt as they are.
    expect(await writer.leaseResend(retried, { version: retried.sagaVersion, count: 1, at: retried.updatedAt })).toBe(
      true,
    );
    const last = await writer.recordAction(
      (await writer.load(created.orderId))!,
      { eventId: `${created.orderId}:retry2`, eventType: 'OPERATOR_RETRY', payload: {}, actor: 'op' },
      new Date(Date.parse(retried.updatedAt) + 1).toISOString(),
    );

    const mine = () =>
      events.flatMap((e) => (e.kind === 'steps' ? e.steps : [])).filter((s) => s.mark.orderId === created.orderId);
    await eventually(
      async () => mine(),
      (steps) => steps.some((s) => s.saga.sagaVersion === last.sagaVersion),
      30000,
    );
    expect(mine().map((s) => s.saga.sagaVersion)).toEqual([1, 2, 3]);
    expect(mine().map((s) => s.mark.updatedAt)).toEqual([created.updatedAt, retried.updatedAt, last.updatedAt]);
    expect(mine()[2].saga).toMatchObject({ orderId: created.orderId, status: last.status, sagaState: last.sagaState });
    expect(events.filter((e) => e.kind === 'gap')).toEqual([]);
    engineTrimsFreshShards = warnings.some((w) => w.includes('TrimmedDataAccessException'));

    // Resume after the first step: the two after it, from the buffer.
    const after = tail.stepsAfter(mine()[0].mark)!;
    expect(after.filter((s) => s.mark.orderId === created.orderId).map((s) => s.saga.sagaVersion)).toEqual([2, 3]);
    // A mark older than the tail's start cannot be served from the buffer: the caller falls back.
    expect(tail.stepsAfter({ updatedAt: '2000-01-01T00:00:00.000Z', orderId: '' })).toBeUndefined();
  } finally {
    unsubscribe();
  }
  // The tail lingers, then stops; a new subscriber starts it again.
  await eventually(
    async () => tail.active,
    (active) => !active,
    30000,
  );
  expect(tail.readingSince).toBeUndefined();
  const again = tail.subscribe(() => undefined);
  expect(tail.active).toBe(true);
  again();
  tail.close();
  expect(tail.active).toBe(false);
});

it('a TrimmedDataAccessException on a position older than 24 h by the tail clock is a gap; the re-read repeats no step', async () => {
  expect(engineTrimsFreshShards).toBeDefined();
  // Fresh tables: the orders shard is empty again when the tail opens it.
  const fresh = await createTestAws('ost2');
  const freshWriter = new SagaStore(writerClients.doc, fresh.names.tables);
  let skewMs = 0;
  const tail = new OrderStreamTail({
    ddb: fresh.clients.ddb,
    streams: fresh.clients.streams,
    tableName: fresh.names.tables.orders,
    busyMs: 100,
    idleMs: 300,
    lingerMs: 200,
    now: () => new Date(Date.now() + skewMs),
  });
  const events: OrderStreamEvent[] = [];
  const unsubscribe = tail.subscribe((e) => events.push(e));
  try {
    await eventually(
      async () => tail.readingSince,
      (since) => since !== undefined,
      30000,
    );
    // The tail now believes it opened the shard 25 h ago: a trim cannot be ruled out.
    skewMs = 25 * 60 * 60 * 1000;
    const saved = writer;
    writer = freshWriter;
    let created: StoredSaga;
    let last: StoredSaga;
    try {
      created = await newSaga();
      last = await writer.recordAction(
        created,
        { eventId: `${created.orderId}:retry`, eventType: 'OPERATOR_RETRY', payload: {}, actor: 'op' },
        new Date(Date.parse(created.updatedAt) + 1).toISOString(),
      );
    } finally {
      writer = saved;
    }
    const mine = () =>
      events.flatMap((e) => (e.kind === 'steps' ? e.steps : [])).filter((s) => s.mark.orderId === created.orderId);
    await eventually(
      async () => mine(),
      (steps) => steps.some((s) => s.saga.sagaVersion === last.sagaVersion),
      30000,
    );
    expect(mine().map((s) => s.saga.sagaVersion)).toEqual([1, 2]);
    expect(events.filter((e) => e.kind === 'gap')).toEqual(engineTrimsFreshShards ? [TRIMMED_GAP] : []);
  } finally {
    unsubscribe();
    tail.close();
    await fresh.cleanup();
  }
});
