/**
 * The SQS consumer on a real queue: what happens to a message a handler cannot process, and the
 * order a FIFO group is handled in when one of its messages fails.
 */
import { ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { QueueConsumer } from '../../src/messaging/consumer';
import { parseSagaEventEnvelope, type SagaEventEnvelope } from '../../src/messaging/envelopes';
import { resolveQueueUrls, type QueueUrls } from '../../src/messaging/queues';
import { sendMessages } from '../../src/messaging/sender';
import { createLogger } from '../../src/observability/logger';
import { createTestAws, type TestAws } from '../support/aws';
import { eventually } from '../support/service';

let aws: TestAws;
let queues: QueueUrls;
const logger = createLogger('error');

beforeAll(async () => {
  aws = await createTestAws('m');
  queues = await resolveQueueUrls(aws.clients.sqs, aws.names);
  await aws.clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queues.saga, Attributes: { VisibilityTimeout: '2' } }));
});
afterAll(async () => {
  await aws?.cleanup();
});

const envelope = (orderId: string, n: number): SagaEventEnvelope => ({
  type: 'saga-event',
  eventId: `${orderId}:${n}`,
  orderId,
  correlationId: `c-${orderId}`,
  event: { type: 'NOTIFICATION_SENT', notificationId: `n${n}` },
});

function consumer(handle: (e: SagaEventEnvelope) => Promise<void>) {
  return new QueueConsumer({
    name: 'test',
    sqs: aws.clients.sqs,
    queueUrl: queues.saga,
    dlqUrl: queues.dlq,
    parse: parseSagaEventEnvelope,
    handle,
    visibilityTimeoutSeconds: 2,
    concurrency: 4,
    waitSeconds: 1,
    maxReceives: 2,
    logger,
  });
}

async function drainDlq(): Promise<Array<{ body: string; reason: string | undefined }>> {
  const out: Array<{ body: string; reason: string | undefined }> = [];
  for (;;) {
    const { Messages = [] } = await aws.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return out;
    out.push(...Messages.map((m) => ({ body: m.Body ?? '', reason: m.MessageAttributes?.reason?.StringValue })));
  }
}

it('a message whose handler keeps failing ends in the DLQ after maxReceives, with the last error as its reason', async () => {
  let attempts = 0;
  const c = consumer(async () => {
    attempts++;
    throw new Error('the gateway is on fire');
  });
  c.start();
  await sendMessages(aws.clients.sqs, queues.saga, [{ body: JSON.stringify(envelope('o-fail', 1)), groupId: 'o-fail', deduplicationId: 'o-fail:1' }]);
  const letters = await eventually(drainDlq, (l) => l.length > 0, 20000);
  await c.stop();
  expect(attempts).toBe(2);
  expect(letters).toHaveLength(1);
  expect(letters[0]!.reason).toBe('failed 2 times: Error: the gateway is on fire');
  expect(JSON.parse(letters[0]!.body)).toEqual(envelope('o-fail', 1));
});

it('a body that is not a valid envelope goes to the DLQ at once, never reaching the handler', async () => {
  let handled = 0;
  const c = consumer(async () => {
    handled++;
  });
  c.start();
  await sendMessages(aws.clients.sqs, queues.saga, [
    { body: '{not json', groupId: 'o-bad', deduplicationId: 'o-bad:1' },
    { body: JSON.stringify({ ...envelope('o-bad', 2), extra: true }), groupId: 'o-bad', deduplicationId: 'o-bad:2' },
  ]);
  const letters = await eventually(drainDlq, (l) => l.length > 0, 20000);
  const more = letters.length < 2 ? await eventually(drainDlq, (l) => l.length > 0, 20000) : [];
  await c.stop();
  const reasons = [...letters, ...more].map((l) => l.reason ?? '');
  expect(handled).toBe(0);
  expect(reasons).toHaveLength(2);
  expect(reasons.some((r) => r.startsWith('poison: body is not JSON'))).toBe(true);
  expect(reasons.some((r) => r.startsWith('poison: schema'))).toBe(true);
});

it('a FIFO group waits for its failed message: later messages are handled after it, in order', async () => {
  const handled: number[] = [];
  let failuresLeft = 1;
  const c = consumer(async (e) => {
    const n = Number(e.eventId.split(':')[1]);
    if (n === 1 && failuresLeft-- > 0) throw new Error('transient');
    handled.push(n);
  });
  await sendMessages(
    aws.clients.sqs,
    queues.saga,
    [1, 2, 3].map((n) => ({ body: JSON.stringify(envelope('o-order', n)), groupId: 'o-order', deduplicationId: `o-order:${n}` })),
  );
  c.start();
  await eventually(async () => handled.length, (n) => n === 3, 20000);
  await c.stop();
  expect(handled).toEqual([1, 2, 3]);
});
