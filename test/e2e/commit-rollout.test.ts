/**
 * The rollout of issue 25 (the Events row is the commit): sagas written by the build before it
 * (the order item is the commit; Events rows without snapshots) finish on this build, with no
 * migration. The old build (test/support/legacy-saga-store.ts: that build's load and commit behind
 * a real SagaRuntime, real SQS workers for the saga and inventory queues) takes orders to
 * awaitingPayment; then it stops and this build's workers (every queue) take over. Every saga
 * ends, its history is contiguous (old rows without a snapshot, this build's with one), its order
 * item (the projection) caught up with its commit, and the invariant checker is clean.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createLogger } from '../../src/observability/logger';
import { SagaRuntime } from '../../src/runtime/saga-runtime';
import type { Workers } from '../../src/runtime/workers';
import { closeCore, createCore, createCoreWorkers, type Core } from '../../src/service';
import { checkInvariants } from '../../tools/invariants';
import { LegacySagaStore } from '../support/legacy-saga-store';
import { eventually, newEvent, placeOrder, startTestService, type TestService } from '../support/service';

let service: TestService;
let oldCore: Core | undefined;
const running: Workers[] = [];

beforeAll(async () => {
  service = await startTestService({ HOLD_SECONDS: '600' }, { inProcessWorkers: false, label: 'cro' });
});
afterAll(async () => {
  for (const w of running.splice(0)) await w.stop();
  if (oldCore) closeCore(oldCore);
  await service?.stop();
});

async function eventRows(orderId: string): Promise<Array<{ version: number; snapshot?: unknown; saga?: unknown }>> {
  const { Items } = await service.core.clients.doc.send(
    new QueryCommand({
      TableName: service.core.names.tables.events,
      KeyConditionExpression: 'aggregateId = :id',
      ExpressionAttributeValues: { ':id': orderId },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []) as Array<{ version: number; snapshot?: unknown; saga?: unknown }>;
}

it('sagas the previous build took to awaitingPayment (order item = commit) finish on this build', async () => {
  const logger = createLogger('error');
  const core = await createCore(service.config, logger);
  oldCore = core;
  const legacy = new LegacySagaStore(core.clients.doc, core.names.tables);
  const oldRuntime = new SagaRuntime({
    store: legacy,
    dispatcher: core.dispatcher,
    logger,
    holdSeconds: service.config.holdSeconds,
  });
  const oldBuild: Core = { ...core, runtime: oldRuntime };
  // The old build serves the saga and inventory queues only: its sagas stop at awaitingPayment,
  // their ChargePayment waiting on the payment queue for whichever build serves it.
  const oldWorkers = createCoreWorkers(oldBuild, ['saga', 'inventory']);
  oldWorkers.start();
  running.push(oldWorkers);

  const eventId = await newEvent(service.core, 10, 25);
  const orders = [
    await placeOrder(oldBuild, { eventId, paymentToken: 'tok_success', customerId: 'c-roll-1' }),
    await placeOrder(oldBuild, { eventId, paymentToken: 'tok_success', customerId: 'c-roll-2', quantity: 2 }),
    await placeOrder(oldBuild, { eventId, paymentToken: 'tok_declined', customerId: 'c-roll-3' }),
  ];
  for (const orderId of orders) {
    await eventually(
      () => legacy.load(orderId),
      (s) => s?.sagaState === 'awaitingPayment',
      30000,
    );
    // Written as that build wrote it: no snapshot on its Events rows.
    expect((await eventRows(orderId)).map((r) => [r.version, r.snapshot === undefined])).toEqual([
      [1, true],
      [2, true],
    ]);
  }
  await oldWorkers.stop();
  running.splice(running.indexOf(oldWorkers), 1);

  // This build takes over every queue.
  const newWorkers = createCoreWorkers(service.core);
  newWorkers.start();
  running.push(newWorkers);
  const ends = await Promise.all(
    orders.map((orderId) =>
      eventually(
        () => service.core.store.load(orderId),
        (s) => s?.status === 'COMPLETED' || s?.status === 'CANCELLED',
        60000,
      ),
    ),
  );
  expect(ends.map((s) => s?.status)).toEqual(['COMPLETED', 'COMPLETED', 'CANCELLED']);
  for (const [i, orderId] of orders.entries()) {
    const rows = (await eventRows(orderId)).sort((a, b) => a.version - b.version);
    expect(rows.map((r) => r.version)).toEqual(rows.map((_r, k) => k + 1));
    // The old build's rows have no snapshot; every row this build wrote carries one (`saga`,
    // since issue 25's size cut: event-snapshot.ts).
    expect(rows.slice(0, 2).every((r) => r.snapshot === undefined && r.saga === undefined)).toBe(true);
    expect(rows.slice(2).every((r) => r.saga !== undefined)).toBe(true);
    // The projection caught up: the order item says what the commit says.
    const item = await eventually(
      () => service.core.store.loadProjection(orderId),
      (s) => s?.sagaVersion === ends[i]?.sagaVersion,
      30000,
    );
    expect(item).toMatchObject({ sagaState: ends[i]?.sagaState, status: ends[i]?.status });
  }
  const report = await checkInvariants({ doc: service.core.clients.doc, tables: service.core.names.tables });
  expect(report.violations).toEqual([]);
});
