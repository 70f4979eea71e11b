/**
 * The console on machine versions (machines/order-saga/registry.ts): a saga's page draws and walks
 * the machine the saga runs on (here v3, the hold reminder, while new orders start on v3), and a
 * saga on a version this build lacks is said to wait, on its page and on the overview — never drawn
 * on another version. Real tables and queues; no worker runs, so the saga stays where it is put.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { http } from '../support/http';
import { as } from '../support/auth';
import { setMachineVersion, startTestService, type TestService } from '../support/service';
import { newEvent, placeOrder } from '../ops/helpers';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ ORDER_SAGA_START_VERSION: '3' }, { inProcessWorkers: false, label: 'cmv' });
});
afterAll(async () => {
  await service?.stop();
});

const text = async (path: string): Promise<string> => {
  const res = await fetch(`${service.baseUrl}${path}`, { headers: as.operator() });
  expect({ path, status: res.status }).toEqual({ path, status: 200 });
  return res.text();
};

it("a saga's page uses its own machine version; an unknown version is shown as a wait, here and on the overview", async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success');
  // Put it in awaitingPayment (as SEATS_RESERVED would) so its v3 remaining steps include the reminder.
  await service.core.clients.doc.send(
    new UpdateCommand({
      TableName: service.core.names.tables.orders,
      Key: { orderId },
      UpdateExpression: 'SET sagaState = :s, saga.#st = :s, #status = :p',
      ExpressionAttributeNames: { '#st': 'state', '#status': 'status' },
      ExpressionAttributeValues: { ':s': 'awaitingPayment', ':p': 'PROCESSING' },
    }),
  );
  const v3 = await text(`/console/sagas/${orderId}`);
  expect(v3).toContain('machine v3');
  expect(v3).toContain('data-event="HOLD_REMINDER_DUE"');
  expect(v3).toContain('svg');

  const other = await placeOrder(service.baseUrl, eventId, 'tok_success');
  await setMachineVersion(service.core, other, '99');
  const unknown = await text(`/console/sagas/${other}`);
  expect(unknown).toContain('id="unknown-machine-version"');
  expect(unknown).not.toContain('data-event="');
  const overview = await text('/console');
  expect(overview).toContain('id="version-waits"');
  expect(overview).toMatch(/v99: 1/);
  // The same number /ops/overview gives.
  const ops = await http<{ unknownMachineVersion: { sagas: number; byVersion: Record<string, number> } }>(
    service.baseUrl,
    'GET',
    '/ops/overview',
    undefined,
    as.operator(),
  );
  expect(ops.body.unknownMachineVersion.byVersion).toEqual({ '99': 1 });
});
