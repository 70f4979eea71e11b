/**
 * `npm run migrate`: an operator moves an open v2 saga to v3 against the real tables and queues.
 * The Events row records who, why, from and to; the v3 reminder timer is sent; a dry run and a
 * refusal change nothing; a migration without a reason does not run.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readQueueDepths } from '../../src/ops/queue-depths';
import { createCoreWorkers } from '../../src/service';
import { eventually, newEvent, placeOrder, startTestService, workerEnv, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({}, { inProcessWorkers: false, label: 'mig' });
});
afterAll(async () => {
  await service?.stop();
});

const migrate = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../scripts/migrate.ts'), ...args], {
    encoding: 'utf8',
    timeout: 60000,
    env: workerEnv(service.config),
  });

it('moves an open v2 saga to v3 with an audit row, sends what v3 waits on, and refuses what it cannot move', async () => {
  const { core } = service;
  const eventId = await newEvent(core, 10, 25);
  const waiting = await placeOrder(core, { eventId, paymentToken: 'tok_success' });
  const ended = await placeOrder(core, { eventId, paymentToken: 'tok_success', quantity: 50 });
  const workers = createCoreWorkers(core, ['saga', 'inventory']);
  workers.start();
  try {
    await eventually(
      () => core.store.load(waiting),
      (s) => s?.sagaState === 'awaitingPayment',
    );
    await eventually(
      () => core.store.load(ended),
      (s) => s?.sagaState === 'failed',
    );
  } finally {
    await workers.stop();
  }
  const before = await core.store.load(waiting);
  const timersBefore = (await readQueueDepths(core.clients.sqs, core.queues)).timer;

  expect(migrate('--to', '3', '--order', waiting, '--by', 'alice').status).toBe(2);
  const dry = migrate(
    '--to',
    '3',
    '--order',
    waiting,
    '--by',
    'alice',
    '--reason',
    'reminders for open orders',
    '--dry-run',
  );
  expect(dry.status).toBe(0);
  expect(dry.stdout).toContain(
    `would migrate ${waiting}: v2 → v3 in awaitingPayment (awaiting payment: hold reminder scheduled)`,
  );
  expect((await core.store.load(waiting))?.sagaVersion).toBe(before?.sagaVersion);

  const run = migrate(
    '--to',
    '3',
    '--order',
    waiting,
    '--order',
    ended,
    '--by',
    'alice',
    '--reason',
    'reminders for open orders',
  );
  expect(run.status).toBe(1);
  expect(run.stdout).toContain(`migrated ${waiting}: v2 → v3 in awaitingPayment`);
  expect(run.stdout).toContain(`refused ${ended}: the saga has ended (failed): there is nothing to migrate`);

  const after = await core.store.load(waiting);
  expect(after?.saga.machineVersion).toBe('3');
  expect(after?.sagaState).toBe('awaitingPayment');
  expect(after?.saga.outbox.map((c) => c.kind)).toEqual([
    'ChargePayment',
    'ScheduleHoldExpiry',
    'ScheduleHoldReminder',
  ]);
  const history = await core.store.history(waiting);
  expect(history.at(-1)).toMatchObject({
    eventType: 'MACHINE_MIGRATED',
    actor: 'operator:alice',
    machineVersion: '3',
    fromState: 'awaitingPayment',
    toState: 'awaitingPayment',
    payload: { from: '2', to: '3', by: 'operator:alice', reason: 'reminders for open orders' },
    commands: [expect.objectContaining({ kind: 'ScheduleHoldReminder' })],
  });
  const timersAfter = (await readQueueDepths(core.clients.sqs, core.queues)).timer;
  expect(timersAfter.visible + timersAfter.delayed + timersAfter.inFlight).toBe(
    timersBefore.visible + timersBefore.delayed + timersBefore.inFlight + 1,
  );
  expect((await core.store.load(ended))?.saga.machineVersion).toBe('2');
}, 90000);
