/**
 * The SQS consumer on a real queue: what happens to a message a handler cannot process, the
 * order a FIFO group is handled in when one of its messages fails, and the lease that hides a
 * message only while its holder is alive to renew it.
 */
import { ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueueConsumer } from '../../src/messaging/consumer';
import { RetryLaterError } from '../../src/messaging/errors';
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
  await aws.clients.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: queues.saga, Attributes: { VisibilityTimeout: '2' } }),
  );
  // The lease tests: a queue that would hide a message for a minute on its own.
  await aws.clients.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: queues.notification, Attributes: { VisibilityTimeout: '60' } }),
  );
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

function consumer(
  handle: (e: SagaEventEnvelope) => Promise<void>,
  {
    queueUrl = queues.saga,
    leaseSeconds = 3,
    sqs = aws.clients.sqs,
  }: { queueUrl?: string; leaseSeconds?: number; sqs?: SQSClient } = {},
) {
  return new QueueConsumer<SagaEventEnvelope>({
    name: 'test',
    sqs,
    queueUrl,
    dlqUrl: queues.dlq,
    parse: parseSagaEventEnvelope,
    handle,
    leaseSeconds,
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
      new ReceiveMessageCommand({
        QueueUrl: queues.dlq,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
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
  await sendMessages(aws.clients.sqs, queues.saga, [
    { body: JSON.stringify(envelope('o-fail', 1)), groupId: 'o-fail', deduplicationId: 'o-fail:1' },
  ]);
  const letters = await eventually(drainDlq, (l) => l.length > 0, 20000);
  await c.stop();
  expect(attempts).toBe(2);
  expect(letters).toHaveLength(1);
  expect(letters[0].reason).toBe('failed 2 times: Error: the gateway is on fire');
  expect(JSON.parse(letters[0].body)).toEqual(envelope('o-fail', 1));
});

it("a message that keeps waiting (RetryLaterError) is dead-lettered with its reason at its last delivery, before SQS's redrive moves it without one", async () => {
  let attempts = 0;
  const c = new QueueConsumer<SagaEventEnvelope>({
    name: 'test-wait',
    sqs: aws.clients.sqs,
    queueUrl: queues.saga,
    dlqUrl: queues.dlq,
    parse: parseSagaEventEnvelope,
    handle: async () => {
      attempts++;
      throw new RetryLaterError('charge ch_o-wait is still in flight; void later', 100);
    },
    leaseSeconds: 3,
    concurrency: 4,
    waitSeconds: 1,
    maxReceives: 2, // waits are not failures: not counted against it
    redriveMaxReceives: 4, // as if the queue's redrive policy said 4 (resources.json says 10)
    logger,
  });
  c.start();
  await sendMessages(aws.clients.sqs, queues.saga, [
    { body: JSON.stringify(envelope('o-wait', 1)), groupId: 'o-wait', deduplicationId: 'o-wait:1' },
  ]);
  const letters = await eventually(drainDlq, (l) => l.length > 0, 30000);
  await c.stop();
  expect(attempts).toBe(4);
  expect(letters).toEqual([
    {
      body: JSON.stringify(envelope('o-wait', 1)),
      reason: 'waited 4 times: RetryLaterError: charge ch_o-wait is still in flight; void later',
    },
  ]);
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
    [1, 2, 3].map((n) => ({
      body: JSON.stringify(envelope('o-order', n)),
      groupId: 'o-order',
      deduplicationId: `o-order:${n}`,
    })),
  );
  c.start();
  await eventually(
    async () => handled.length,
    (n) => n === 3,
    20000,
  );
  await c.stop();
  expect(handled).toEqual([1, 2, 3]);
});

/** What another worker would get from the queue right now (it hides what it gets for 60 s). */
async function peek(queueUrl: string, waitSeconds = 0) {
  const { Messages = [] } = await aws.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      VisibilityTimeout: 60,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return Messages;
}

it('the lease is renewed while a handler runs longer than it: no other worker sees the message, it is handled once', async () => {
  let calls = 0;
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  const c = consumer(
    async () => {
      calls++;
      await slow;
    },
    { queueUrl: queues.notification, leaseSeconds: 3 },
  );
  c.start();
  const seenByOthers: unknown[] = [];
  try {
    await sendMessages(aws.clients.sqs, queues.notification, [{ body: JSON.stringify(envelope('o-long', 1)) }]);
    await eventually(
      async () => calls,
      (n) => n === 1,
      10000,
    );
    // Three leases long, another worker polling all the while.
    for (const deadline = Date.now() + 9000; Date.now() < deadline;)
      seenByOthers.push(...(await peek(queues.notification, 1)));
  } finally {
    release();
    await c.stop();
  }
  expect(seenByOthers).toEqual([]);
  expect(calls).toBe(1);
  expect(await peek(queues.notification, 1)).toEqual([]); // handled and deleted
});

it("a holder that can no longer renew (dead, or cut off) loses its message after one lease, not the queue's 60 s", async () => {
  // The holder's own client: once it holds the message every call fails (renewals, and receives
  // that would take the message back), as for a worker that froze or lost the network. Its first
  // receive went through, so that receive's lease applies.
  const holderSqs = new SQSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  let cutOff = false;
  holderSqs.middlewareStack.add(
    (next) => async (args) => {
      if (cutOff) throw new Error('network unreachable');
      return next(args);
    },
    { step: 'initialize', name: 'cutOff' },
  );
  let calls = 0;
  let release!: () => void;
  const hung = new Promise<void>((r) => (release = r));
  const c = consumer(
    async () => {
      calls++;
      cutOff = true;
      await hung;
    },
    { queueUrl: queues.notification, leaseSeconds: 3, sqs: holderSqs },
  );
  c.start();
  let back: Awaited<ReturnType<typeof peek>>;
  let hiddenMs: number;
  try {
    await sendMessages(aws.clients.sqs, queues.notification, [{ body: JSON.stringify(envelope('o-lost', 1)) }]);
    await eventually(
      async () => calls,
      (n) => n === 1,
      10000,
    );
    const heldAt = Date.now();
    // Another worker gets it back once the 3-s lease runs out; the queue alone would hide it 60 s.
    back = await eventually(
      () => peek(queues.notification, 5),
      (m) => m.length > 0,
      30000,
    );
    hiddenMs = Date.now() - heldAt;
  } finally {
    release();
    await c.stop();
    holderSqs.destroy();
  }
  expect(JSON.parse(back[0].Body ?? '{}')).toEqual(envelope('o-lost', 1));
  expect(back[0].Attributes?.ApproximateReceiveCount).toBe('2');
  expect(hiddenMs).toBeLessThan(30000);
});
