/**
 * The consumer's deletes on a real queue (issue 25, decision 3): messages handled together are
 * deleted in DeleteMessageBatch calls of up to 10; an entry SQS refuses is logged and counted
 * (ConsumerObserver.deleteFailed), and its message is delivered again — safe, handlers are idempotent.
 */
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  ConsumerOptionsError,
  QueueConsumer,
  type ConsumerObserver,
  type ConsumerOptions,
} from '../../src/messaging/consumer';
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

/**
 * An SQS client that records the entry count of every DeleteMessageBatch it makes, and how many
 * messages every ReceiveMessage returned.
 */
function countingClient(): { sqs: SQSClient; deletes: number[]; receives: number[] } {
  const sqs = new SQSClient({
    region: TEST_AWS_CONFIG.awsRegion,
    endpoint: TEST_AWS_CONFIG.sqsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const deletes: number[] = [];
  const receives: number[] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'DeleteMessageBatchCommand')
        deletes.push((args.input as { Entries?: unknown[] }).Entries?.length ?? 0);
      const result = await next(args);
      if (context.commandName === 'ReceiveMessageCommand')
        receives.push((result.output as { Messages?: unknown[] }).Messages?.length ?? 0);
      return result;
    },
    { step: 'initialize', name: 'countDeletes' },
  );
  return { sqs, deletes, receives };
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
  options: Partial<ConsumerOptions<Job>> = {},
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
    ...options,
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

describe('the adaptive delete linger (src/messaging/linger.ts)', () => {
  // A 12-h lease allows a 10-min linger (a tenth of half the lease): no test could wait it out, so a
  // delete that waited for it would fail the test by its timeout or by the stop below.
  const longLinger: Partial<ConsumerOptions<Job>> = { leaseSeconds: 43_200, deleteLingerMs: 600_000 };

  it('idle: a lone handled message is deleted at once, not after the linger', async () => {
    const { sqs, deletes } = countingClient();
    // A queue of its own: a message the tests above let come back must not join in.
    await put(queues.payment, 200, 1);
    const c = consumer(sqs, async () => undefined, undefined, { ...longLinger, queueUrl: queues.payment });
    c.start();
    await eventually(
      async () => deletes.length,
      (n) => n === 1,
      30000,
    );
    await c.stop();
    expect(deletes).toEqual([1]);
    sqs.destroy();
  });

  it('busy: deletes soon after a DeleteMessageBatch wait for company; stop() sends them', async () => {
    const { sqs, deletes } = countingClient();
    await put(queues.inventory, 300, 4);
    // The first handler ends at once; the others wait until its delete went, then end together.
    let received = 0;
    let handled = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = consumer(
      sqs,
      async () => {
        if (++received > 1) await gate;
        handled++;
      },
      undefined,
      { ...longLinger, queueUrl: queues.inventory },
    );
    c.start();
    await eventually(
      async () => ({ deletes: deletes.length, received }),
      (n) => n.deletes === 1 && n.received === 4,
      30000,
    );
    release();
    await eventually(
      async () => handled,
      (n) => n === 4,
      30000,
    );
    // The queue's last delete went just now: these three wait (the linger is 10 min) …
    expect(deletes).toEqual([1]);
    // … until stop() flushes them, in one call.
    await c.stop();
    expect(deletes).toEqual([1, 3]);
    expect(await visible(queues.inventory)).toEqual([]);
    sqs.destroy();
  });

  it('a delete linger of more than a tenth of half the lease is refused', () => {
    const { sqs } = countingClient();
    expect(() => consumer(sqs, async () => undefined, undefined, { leaseSeconds: 10, deleteLingerMs: 501 })).toThrow(
      ConsumerOptionsError,
    );
    expect(() =>
      consumer(sqs, async () => undefined, undefined, { leaseSeconds: 10, deleteLingerMs: 500 }),
    ).not.toThrow();
    sqs.destroy();
  });
});

it('busy: after a receive that returned fewer than it asked for, the next waits (receiveLingerMs) and collects what arrived meanwhile', async () => {
  const { sqs, receives } = countingClient();
  await put(queues.payment, 400, 1);
  // Handling the first message sends 4 more, one at a time; without the wait, the open long poll
  // would take the first of them as it arrives.
  let handled = 0;
  const c = consumer(
    sqs,
    async () => {
      if (++handled === 1) for (let i = 401; i <= 404; i++) await put(queues.payment, i, 1);
    },
    undefined,
    { queueUrl: queues.payment, receiveLingerMs: 1000 },
  );
  c.start();
  await eventually(
    async () => handled,
    (n) => n === 5,
    30000,
  );
  await c.stop();
  expect(receives.filter((n) => n > 0)).toEqual([1, 4]);
  sqs.destroy();
});
