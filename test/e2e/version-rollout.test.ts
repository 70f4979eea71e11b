/**
 * A deploy that changes the machine, with orders in flight. The old build (new orders on v2)
 * leaves v2 sagas in every open state, each waiting on a real command in a real queue. Then the
 * new build takes over: its API starts new orders on v3 (ORDER_SAGA_START_VERSION=3), its worker
 * processes serve every queue, and one of them is SIGKILLed and replaced in the middle. Every v2
 * saga finishes on v2, every v3 saga on v3 (snapshot and every Events row), v3's reminder reaches
 * the customer, the invariant checker is clean, and the recorded histories replay as their
 * versions say.
 */
import { createLogger } from '../../src/observability/logger';
import { checkInvariants } from '../../tools/invariants';
import { readHistoriesFromTable } from '../../tools/history-source';
import { replayHistories } from '../../src/ops/replay';
import { readNotification } from '../../src/participants/records';
import { createCoreWorkers, startService, type RunningService } from '../../src/service';
import { machineVersion } from '../../machines/order-saga';
import { as } from '../support/auth';
import { http } from '../support/http';
import { spawnWorker, type WorkerProcess } from '../support/processes';
import { serveOnly } from '../support/selective-participant';
import {
  eventually,
  newEvent,
  placeOrder,
  startTestService,
  testConfig,
  workerEnv,
  type TestService,
} from '../support/service';

let oldBuild: TestService;
let newApi: RunningService | undefined;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  // The old build: its API starts orders on v2; its saga worker runs in this process.
  oldBuild = await startTestService(
    { ORDER_SAGA_START_VERSION: '2', HOLD_SECONDS: '600' },
    { inProcessWorkers: false, label: 'roll' },
  );
});
afterAll(async () => {
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.exited));
  await newApi?.stop();
  await oldBuild?.stop();
});

it('v2 sagas in every open state finish on v2 across a deploy that starts new orders on v3, workers killed in the middle', async () => {
  const { core } = oldBuild;
  const eventId = await newEvent(core, 100, 25);
  const state = async (id: string) => (await core.store.load(id))?.sagaState;
  const allIn = (ids: string[], target: string) => async () =>
    (await Promise.all(ids.map(state))).every((s) => s === target);
  const ask = (id: string, type: 'CANCEL_REQUESTED' | 'OPERATOR_COMPENSATE') =>
    core.runtime.request(
      id,
      `test:${type}:${id}`,
      { type, by: type === 'CANCEL_REQUESTED' ? 'customer:customer-1' : 'operator:ops', reason: 'rollout test' },
      'operator:ops',
    );

  // ---- the old build: v2 sagas parked in every open state ----
  const order = () => placeOrder(core, { eventId, paymentToken: 'tok_success' });
  const v2 = {
    reserving: await order(),
    awaitingPayment: await order(),
    releasingSeats: await order(),
    settlingPayment: await order(),
    confirming: await order(),
    notifying: await order(),
    refunding: await order(),
  };
  const oldSaga = createCoreWorkers(core, ['saga']);
  oldSaga.start();
  try {
    const reserved = [
      v2.awaitingPayment,
      v2.releasingSeats,
      v2.settlingPayment,
      v2.confirming,
      v2.notifying,
      v2.refunding,
    ];
    await serveOnly(core, 'inventory', reserved, allIn(reserved, 'awaitingPayment'));
    await ask(v2.releasingSeats, 'CANCEL_REQUESTED');
    await ask(v2.settlingPayment, 'CANCEL_REQUESTED');
    await serveOnly(core, 'inventory', [v2.settlingPayment], allIn([v2.settlingPayment], 'settlingPayment'));
    const paid = [v2.confirming, v2.notifying, v2.refunding];
    await serveOnly(core, 'payment', paid, allIn(paid, 'confirming'));
    await ask(v2.refunding, 'OPERATOR_COMPENSATE');
    await serveOnly(
      core,
      'inventory',
      [v2.notifying, v2.refunding],
      async () => (await allIn([v2.notifying], 'notifying')()) && (await allIn([v2.refunding], 'refunding')()),
    );
  } finally {
    await oldSaga.stop();
  }
  for (const [target, id] of Object.entries(v2)) expect([target, await state(id)]).toEqual([target, target]);

  // ---- the new build: new orders on v3; two worker processes, one killed and replaced ----
  const newConfig = testConfig(core.config.resourcePrefix, {
    SERVICE_MODE: 'api',
    ORDER_SAGA_START_VERSION: '3',
    HOLD_SECONDS: '20',
    PAYMENT_SLOW_MS: '18000',
    STALLED_AFTER_MS: '5000',
    SWEEP_INTERVAL_MS: '2000',
  });
  newApi = await startService(newConfig, createLogger(newConfig.logLevel), { sweeper: false });
  const newUrl = `http://127.0.0.1:${(newApi.server!.address() as { port: number }).port}`;
  workers.push(spawnWorker(workerEnv(newConfig)), spawnWorker(workerEnv(newConfig)));
  // In the middle: the v2 sagas are moving again when one new worker dies.
  await eventually(
    () => state(v2.reserving),
    (s) => s !== 'reserving',
    60000,
  );
  workers[0].kill('SIGKILL');
  await workers[0].exited;
  workers.push(spawnWorker(workerEnv(newConfig)));

  const placeV3 = async (paymentToken: string) => {
    const res = await http<{ orderId: string }>(
      newUrl,
      'POST',
      '/orders',
      { customerId: 'customer-2', eventId, items: [{ ticketType: 'GA', quantity: 1 }], paymentToken },
      as.customer('customer-2'),
    );
    expect(res.status).toBe(202);
    return res.body.orderId;
  };
  const v3 = {
    paid: await placeV3('tok_success'),
    declined: await placeV3('tok_declined'),
    slow: await placeV3('tok_slow'),
    cancelled: await placeV3('tok_slow'),
  };
  await eventually(
    () => state(v3.cancelled),
    (s) => s === 'awaitingPayment',
    60000,
  );
  expect(
    (
      await http(
        newUrl,
        'POST',
        `/orders/${v3.cancelled}/cancel`,
        { reason: 'changed my mind' },
        as.customer('customer-2'),
      )
    ).status,
  ).toBe(202);

  const everyone = [...Object.values(v2), ...Object.values(v3)];
  await eventually(
    () => Promise.all(everyone.map(state)),
    (states) => states.every((s) => s === 'completed' || s === 'cancelled' || s === 'failed'),
    120000,
  );

  // ---- each saga finished on the version it started on ----
  const versionsOf = async (id: string) => {
    const saga = await core.store.load(id);
    const rows = await core.store.history(id);
    return {
      snapshot: saga!.saga.machineVersion,
      rows: [...new Set(rows.map((r) => r.machineVersion).filter((v) => v !== undefined))],
      state: saga!.sagaState,
      outcome: saga!.saga.context.outcome,
    };
  };
  for (const id of Object.values(v2)) expect(await versionsOf(id)).toMatchObject({ snapshot: '2', rows: ['2'] });
  for (const id of Object.values(v3)) expect(await versionsOf(id)).toMatchObject({ snapshot: '3', rows: ['3'] });
  expect(await versionsOf(v2.reserving)).toMatchObject({ state: 'completed' });
  expect(await versionsOf(v2.awaitingPayment)).toMatchObject({ state: 'completed' });
  expect(await versionsOf(v2.confirming)).toMatchObject({ state: 'completed' });
  expect(await versionsOf(v2.notifying)).toMatchObject({ state: 'completed' });
  expect(await versionsOf(v2.releasingSeats)).toMatchObject({ state: 'cancelled', outcome: 'cancelled' });
  expect(await versionsOf(v2.settlingPayment)).toMatchObject({ state: 'cancelled', outcome: 'cancelled' });
  expect(await versionsOf(v2.refunding)).toMatchObject({ state: 'cancelled', outcome: 'compensated' });
  expect(await versionsOf(v3.paid)).toMatchObject({ state: 'completed' });
  expect(await versionsOf(v3.declined)).toMatchObject({ state: 'cancelled', outcome: 'declined' });
  expect(await versionsOf(v3.cancelled)).toMatchObject({ state: 'cancelled', outcome: 'cancelled' });

  // v3's change reached the customer: the slow payment outlasted the reminder's due time (10 s before the 20-s hold
  // ends).
  const reminder = await readNotification(core.participantDeps, `${v3.slow}:SendHoldReminder`);
  expect(reminder).toMatchObject({ orderId: v3.slow, template: 'hold-reminder' });
  // v2 sagas never schedule one.
  for (const id of Object.values(v2)) {
    const rows = await core.store.history(id);
    expect(rows.flatMap((r) => r.commands ?? []).map((c) => c.kind)).not.toContain('ScheduleHoldReminder');
  }

  const report = await checkInvariants({ doc: core.clients.doc, tables: core.names.tables });
  expect(report.violations).toEqual([]);
  expect(report.ok).toBe(true);

  // The histories of this deployment replay as their versions say: v2 sagas the same on v2, v3 sagas the same on v3.
  const histories = await readHistoriesFromTable(core.clients.doc, core.names.tables.events);
  const ofIds = (ids: string[]) => histories.filter((h) => ids.includes(h.orderId));
  expect(replayHistories(ofIds(Object.values(v2)), machineVersion('2'))).toMatchObject({ same: 7, diverged: 0 });
  expect(replayHistories(ofIds(Object.values(v3)), machineVersion('3'))).toMatchObject({ same: 4, diverged: 0 });
}, 300000);
