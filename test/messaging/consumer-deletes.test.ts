/**
 * The consumer's deletes on a real queue (issue 25, decision 3): messages handled together are
 * deleted in DeleteMessageBatch calls of up to 10; an entry SQS refuses is logged and counted
 * (ConsumerObserver.deleteFailed), and its message is delivered again — safe, handlers are idempotent.
 */
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueueConsumer, type ConsumerObserver } from '../../src/messaging/consumer';
import type { Parser } from '../../src/messaging/envelopes';
import { resolveQueueUrls, type QueueUrls } from '../../src/messaging/queues';
import { createLogger } from '../../src/observability/logger';
import { createTestAws, TEST_AWS_CONFIG, type TestAws } from '../support/aws';
import { eventually } from '../support/service';

let aws: TestAws;
let queues: QueueUrls;
const logger = createLogger('error');

beforeAll(async () => {
  aws = await createTestAws('cd');
  queues = await resolveQueueUrls(aws.clients.sqs, aws.names);
});
afterAll(async () => {
  await aws?.cleanup();
});

/** An SQS client that records the entry count of every DeleteMessageBatch it makes. */
function countingClient(): { sqs: SQSClient; deletes: number[] } {
  const sqs = new SQSClient({
    region: TEST_AWS_CONFIG.awsRegion,
    endpoint: TEST_AWS_CONFIG.sqsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const deletes: number[] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'DeleteMessageBatchCommand')
        deletes.push((args.input as { Entries?: unknown[] }).Entries?.length ?? 0);
      return next(args);
    },
    { step: 'initialize', name: 'countDeletes' },
  );
  return { sqs, deletes };
}

/** The body these tests send: only the consumer's deletes are under test, not an envelope's shape. */
interface Job {
  orderId: string;
}
const command = (n: number): Job => ({ orderId: `o-${n}` });
const parseJob: Parser<Job> = (body) => ({ ok: true, value: JSON.parse(body) as Job });

async function put(queueUrl: string, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 10) {
    const n = Math.min(10, from + count - i);
    await aws.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Array.from({ length: n }, (_, k) => ({ Id: String(k), MessageBody: JSON.stringify(command(i + k)) })),
      }),
    );
  }
}

async function visible(queueUrl: string): Promise<string[]> {
  const { Messages = [] } = await aws.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 1,
    }),
  );
  return Messages.map((m) => (JSON.parse(m.Body ?? '{}') as Job).orderId);
}

function consumer(
  sqs: SQSClient,
  handle: (value: Job, message: { receiptHandle: string }) => Promise<void>,
  observer?: ConsumerObserver,
) {
  return new QueueConsumer<Job>({
    name: 'deletes',
    sqs,
    queueUrl: queues.notification,
    dlqUrl: queues.dlq,
    parse: parseJob,
    handle,
    leaseSeconds: 3,
    concurrency: 25,
    waitSeconds: 1,
    maxReceives: 5,
    logger,
    observer,
  });
}

it('25 messages handled together are deleted in 3 DeleteMessageBatch calls (10, 10, 5)', async () => {
  const { sqs, deletes } = countingClient();
  await put(queues.notification, 0, 25);
  // Every handler waits until all 25 are in hand, then all finish at once.
  let received = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const c = consumer(sqs, async () => {
    if (++received === 25) release();
    await gate;
  });
  c.start();
  await eventually(
    async () => deletes.reduce((a, n) => a + n, 0),
    (n) => n >= 25,
    30000,
  );
  await c.stop();
  expect(deletes).toEqual([10, 10, 5]);
  expect(await visible(queues.notification)).toEqual([]);
  sqs.destroy();
});

it('a delete SQS refuses is counted and logged; that message comes back, the others are gone', async () => {
  const { sqs, deletes } = countingClient();
  await put(queues.notification, 100, 3);
  const failedDeletes: number[] = [];
  const observer: ConsumerObserver = {
    received: () => undefined,
    failed: () => undefined,
    deleteFailed: (_consumer, count) => failedDeletes.push(count),
  };
  const handled: string[] = [];
  let received = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const c = consumer(
    sqs,
    async (value, message) => {
      handled.push(value.orderId);
      if (++received === 3) release();
      await gate;
      // A receipt handle SQS does not know (as one from an older receive may be): its delete fails.
      if (value.orderId === 'o-101') message.receiptHandle = 'not-a-receipt-handle';
    },
    observer,
  );
  c.start();
  await eventually(
    async () => failedDeletes.length,
    (n) => n > 0,
    30000,
  );
  await c.stop();
  expect(deletes[0]).toBe(3);
  expect(failedDeletes).toEqual([1]);
  // o-101 returns once its lease (3 s) lapses; o-100 and o-102 were deleted.
  const back = await eventually(
    () => visible(queues.notification),
    (ids) => ids.length > 0,
    30000,
  );
  expect(back).toEqual(['o-101']);
  sqs.destroy();
});
