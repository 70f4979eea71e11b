/**
 * Poison messages on the real queues end in ticket-dlq with their reason; GET /ops/dlq shows
 * them without consuming them; a redrive puts them back on their source queue (FIFO: same group,
 * new deduplication id) and off the DLQ, and a poison message redriven comes straight back; a
 * delete drops one. Also a message SQS itself moved to ticket-dlq.fifo (no reason attributes).
 */
import { SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { Workers } from '../../src/runtime/workers';
import { createCoreWorkers } from '../../src/service';
import { http } from '../support/http';
import { as } from '../support/auth';
import { eventually, startTestService, type TestService } from '../support/service';
import { receiveUntil, release, type Problem } from './helpers';
import type { DeadLetterView } from '../../src/ops/dead-letter-ops';

type DeadLetter = DeadLetterView;

let service: TestService;
let workers: Workers | undefined;
const OPERATOR = as.repair('dana');

beforeAll(async () => {
  service = await startTestService({}, { inProcessWorkers: false, label: 'od' });
});
afterAll(async () => {
  await workers?.stop();
  await service?.stop();
});

function startWorkers(): void {
  workers = createCoreWorkers(service.core, ['saga', 'inventory']);
  workers.start();
}
async function stopWorkers(): Promise<void> {
  await workers?.stop();
  workers = undefined;
}

const dlq = async (): Promise<DeadLetter[]> => {
  const res = await http<{ messages: DeadLetter[] }>(
    service.baseUrl,
    'GET',
    '/ops/dlq?limit=100',
    undefined,
    as.operator(),
  );
  expect(res.status).toBe(200);
  return res.body.messages;
};

async function send(
  queue: 'saga' | 'inventory' | 'dlqFifo',
  body: string,
  extra: { groupId?: string; dedup?: string; correlationId?: string } = {},
) {
  await service.core.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: service.core.queues[queue],
      MessageBody: body,
      MessageGroupId: extra.groupId,
      MessageDeduplicationId: extra.dedup,
      MessageAttributes: extra.correlationId
        ? { correlationId: { DataType: 'String', StringValue: extra.correlationId } }
        : undefined,
    }),
  );
}

const queueName = (key: 'saga' | 'inventory') => service.core.names.queues[key];

it('poison messages land in ticket-dlq with their reason; redrive, round trip, delete', async () => {
  const unknownOrder = randomUUID();
  const unknownEvent = {
    type: 'saga-event',
    eventId: `${unknownOrder}:ReleaseSeats:reply`,
    orderId: unknownOrder,
    correlationId: 'corr-unknown',
    event: { type: 'SEATS_RELEASED' },
  };
  const invalidCommand = {
    type: 'command',
    correlationId: 'corr-schema',
    command: { kind: 'LaunchRockets', commandId: 'x:LaunchRockets', orderId: 'x' },
  };

  await send('saga', 'this is {not json', { groupId: 'poison-group', dedup: 'poison-dedup' });
  await send('inventory', JSON.stringify(invalidCommand), { correlationId: 'corr-schema' });
  await send('saga', JSON.stringify(unknownEvent), {
    groupId: unknownOrder,
    dedup: unknownEvent.eventId,
    correlationId: 'corr-unknown',
  });
  startWorkers();
  const letters = await eventually(dlq, (ms) => ms.length >= 3, 20000);
  await stopWorkers();

  const malformed = letters.find((m) => m.body === 'this is {not json');
  const schema = letters.find((m) => m.correlationId === 'corr-schema');
  const unknown = letters.find((m) => m.correlationId === 'corr-unknown');
  expect(malformed).toMatchObject({
    queue: 'ticket-dlq',
    sourceQueue: queueName('saga'),
    groupId: 'poison-group',
    receiveCount: 1,
  });
  expect(malformed!.reason).toMatch(/^poison: body is not JSON/);
  expect(schema).toMatchObject({
    queue: 'ticket-dlq',
    sourceQueue: queueName('inventory'),
    body: invalidCommand,
    groupId: null,
  });
  expect(schema!.reason).toMatch(/^poison: schema: /);
  expect(unknown).toMatchObject({
    queue: 'ticket-dlq',
    sourceQueue: queueName('saga'),
    body: unknownEvent,
    groupId: unknownOrder,
  });
  expect(unknown!.reason).toBe(`poison: UnknownSagaError: no saga for order ${unknownOrder}`);
  for (const m of [malformed, schema, unknown])
    expect(Date.parse(m!.failedAt ?? '')).toBeGreaterThan(Date.now() - 60000);

  // Looking consumes nothing: the same messages, visible again at once.
  expect((await dlq()).map((m) => m.id).sort()).toEqual(letters.map((m) => m.id).sort());

  // A message SQS's own redrive moved from the saga queue: no reason attributes.
  const sqsMoved = { ...unknownEvent, orderId: randomUUID(), correlationId: 'corr-sqs' };
  await send('dlqFifo', JSON.stringify(sqsMoved), {
    groupId: sqsMoved.orderId,
    dedup: 'original-dedup',
    correlationId: 'corr-sqs',
  });
  const withFifo = await dlq();
  const moved = withFifo.find((m) => m.correlationId === 'corr-sqs');
  expect(moved).toMatchObject({
    queue: 'ticket-dlq.fifo',
    reason: 'exceeded maxReceiveCount',
    sourceQueue: queueName('saga'),
    groupId: sqsMoved.orderId,
    failedAt: null,
    body: sqsMoved,
  });

  // Redrive needs a token with operator-repair, and a reason.
  const anonymous = await http<Problem>(service.baseUrl, 'POST', '/ops/dlq/redrive', {
    ids: [unknown!.id],
    reason: 'retry',
  });
  expect(anonymous.status).toBe(401);
  const readOnly = await http<Problem>(
    service.baseUrl,
    'POST',
    '/ops/dlq/redrive',
    { ids: [unknown!.id], reason: 'retry' },
    as.operator(),
  );
  expect(readOnly.status).toBe(403);
  const noReason = await http<Problem>(service.baseUrl, 'POST', '/ops/dlq/redrive', { ids: [unknown!.id] }, OPERATOR);
  expect(noReason.status).toBe(400);

  const missing = randomUUID();
  const redrive = await http<{ redriven: string[]; notFound: string[]; failed: unknown[] }>(
    service.baseUrl,
    'POST',
    '/ops/dlq/redrive',
    { ids: [unknown!.id, schema!.id, moved!.id, missing], reason: 'bug fixed, try again' },
    OPERATOR,
  );
  expect(redrive.status).toBe(200);
  expect(redrive.body.redriven.sort()).toEqual([unknown!.id, schema!.id, moved!.id].sort());
  expect(redrive.body.notFound).toEqual([missing]);
  expect(redrive.body.failed).toEqual([]);
  expect((await dlq()).map((m) => m.id)).toEqual([malformed!.id]);

  // Back on their source queues: FIFO ones in their group with a new deduplication id, the DLQ's
  // bookkeeping attributes gone, the correlation id kept.
  const sqs = service.core.clients.sqs;
  const onSaga = await receiveUntil(sqs, service.core.queues.saga, (ms) => ms.length >= 2);
  const byGroup = (group: string) => onSaga.find((m) => m.Attributes?.MessageGroupId === group) as Message;
  expect(JSON.parse(byGroup(unknownOrder).Body ?? '')).toEqual(unknownEvent);
  expect(byGroup(unknownOrder).Attributes?.MessageDeduplicationId).toMatch(
    new RegExp(`^${unknownEvent.eventId}:redrive:\\d+$`),
  );
  expect(Object.keys(byGroup(unknownOrder).MessageAttributes ?? {})).toEqual(['correlationId']);
  expect(JSON.parse(byGroup(sqsMoved.orderId).Body ?? '')).toEqual(sqsMoved);
  expect(byGroup(sqsMoved.orderId).Attributes?.MessageDeduplicationId).toMatch(/^original-dedup:redrive:\d+$/);
  expect(byGroup(sqsMoved.orderId).MessageAttributes?.correlationId?.StringValue).toBe('corr-sqs');
  const onInventory = await receiveUntil(sqs, service.core.queues.inventory, (ms) => ms.length >= 1);
  expect(onInventory.map((m) => JSON.parse(m.Body ?? ''))).toEqual([invalidCommand]);
  expect(onInventory[0].MessageAttributes?.correlationId?.StringValue).toBe('corr-schema');

  // Nothing was fixed: handed back to the workers, they come straight back to the DLQ.
  await release(sqs, service.core.queues.saga, onSaga);
  await release(sqs, service.core.queues.inventory, onInventory);
  startWorkers();
  const returned = await eventually(dlq, (ms) => ms.length >= 4, 20000);
  await stopWorkers();
  expect(
    returned
      .filter((m) => m.correlationId !== null)
      .map((m) => m.correlationId)
      .sort(),
  ).toEqual(['corr-schema', 'corr-sqs', 'corr-unknown']);
  expect(returned.every((m) => m.queue === 'ticket-dlq' && m.reason.startsWith('poison: '))).toBe(true);

  // Delete: who (operator-repair) and why, then gone; a second delete, and an unknown id, are 404.
  const path = `/ops/dlq/${malformed!.id}`;
  expect((await http(service.baseUrl, 'DELETE', `${path}?reason=garbage`)).status).toBe(401);
  expect((await http(service.baseUrl, 'DELETE', `${path}?reason=garbage`, undefined, as.operator())).status).toBe(403);
  expect((await http(service.baseUrl, 'DELETE', path, undefined, OPERATOR)).status).toBe(400);
  const deleted = await http<{ deleted: boolean; id: string; queue: string }>(
    service.baseUrl,
    'DELETE',
    `${path}?reason=garbage`,
    undefined,
    OPERATOR,
  );
  expect(deleted.status).toBe(200);
  expect(deleted.body).toMatchObject({ deleted: true, id: malformed!.id, queue: 'ticket-dlq' });
  expect((await dlq()).map((m) => m.id)).not.toContain(malformed!.id);
  expect((await http(service.baseUrl, 'DELETE', path, { reason: 'again' }, OPERATOR)).status).toBe(404);
  expect((await http(service.baseUrl, 'DELETE', `/ops/dlq/${randomUUID()}`, { reason: 'x' }, OPERATOR)).status).toBe(
    404,
  );
  expect((await http(service.baseUrl, 'DELETE', '/ops/dlq/not%20an%20id', { reason: 'x' }, OPERATOR)).status).toBe(400);
  const deleteRedrive = await http(service.baseUrl, 'DELETE', '/ops/dlq/redrive', { reason: 'x' }, OPERATOR);
  expect(deleteRedrive.status).toBe(405);
  expect(deleteRedrive.headers.get('allow')).toBe('POST');

  // Redrive everything left: all of it goes back, the DLQs are empty.
  const before = await dlq();
  const all = await http<{ redriven: string[]; notFound: string[] }>(
    service.baseUrl,
    'POST',
    '/ops/dlq/redrive',
    { reason: 'drain' },
    OPERATOR,
  );
  expect(all.status).toBe(200);
  expect(all.body.redriven.sort()).toEqual(before.map((m) => m.id).sort());
  expect(all.body.notFound).toEqual([]);
  expect(await dlq()).toEqual([]);
});

it('an action on a dead letter about an existing saga is also recorded on that saga', async () => {
  const eventId = `ev-${randomUUID()}`;
  expect(
    (
      await http(
        service.baseUrl,
        'PUT',
        `/events/${eventId}/inventory`,
        {
          eventName: 'Ops night',
          ticketTypes: [{ ticketType: 'GA', totalQuantity: 5, price: 25, currency: 'EUR' }],
        },
        as.organizer(),
      )
    ).status,
  ).toBe(200);
  const placed = await http<{ orderId: string }>(
    service.baseUrl,
    'POST',
    '/orders',
    {
      customerId: 'c-ops',
      eventId,
      items: [{ ticketType: 'GA', quantity: 1 }],
      paymentToken: 'tok_success',
    },
    as.customer('c-ops'),
  );
  const orderId = placed.body.orderId;
  const envelope = {
    type: 'saga-event',
    eventId: `${orderId}:ReserveSeats:reply`,
    orderId,
    correlationId: 'corr-known',
    event: { type: 'SEATS_UNAVAILABLE', reason: 'sold out' },
  };
  await send('dlqFifo', JSON.stringify(envelope), {
    groupId: orderId,
    dedup: envelope.eventId,
    correlationId: 'corr-known',
  });
  const letter = await eventually(dlq, (ms) => ms.some((m) => m.correlationId === 'corr-known'));
  const id = letter.find((m) => m.correlationId === 'corr-known')!.id;

  const deleted = await http(service.baseUrl, 'DELETE', `/ops/dlq/${id}`, { reason: 'stale reply' }, OPERATOR);
  expect(deleted.status).toBe(200);
  const saga = await http<{
    state: string;
    version: number;
    history: Array<{ version: number; eventType: string; actor?: string; payload: unknown }>;
  }>(service.baseUrl, 'GET', `/sagas/${orderId}`, undefined, as.operator());
  expect(saga.body).toMatchObject({ state: 'reserving', version: 2 });
  expect(saga.body.history.map((h) => h.version)).toEqual([1, 2]);
  expect(saga.body.history[1]).toMatchObject({
    eventType: 'OPERATOR_DLQ_DELETE',
    actor: 'operator:dana',
    payload: { by: 'operator:dana', reason: 'stale reply', messageId: id },
  });
});
