/**
 * The batching sender on a real queue (issue 25, decision 3): sends of many callers (sagas) bound
 * for one queue share SendMessageBatch calls of up to 10; an entry SQS refuses fails its own caller
 * only (its command stays pending, never reported sent) while the others are sent; FIFO entries
 * keep their group and deduplication ids and their order within a group.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchingSender, MessageRefusedError } from '../../src/messaging/batching-sender';
import { resolveQueueUrls, type QueueUrls } from '../../src/messaging/queues';
import type { OutgoingMessage } from '../../src/messaging/sender';
import { SQS_MAX_MESSAGE_BYTES } from '../../src/aws/sqs-limits';
import { createTestAws, TEST_AWS_CONFIG, type TestAws } from '../support/aws';

let aws: TestAws;
let queues: QueueUrls;

beforeAll(async () => {
  aws = await createTestAws('bs');
  queues = await resolveQueueUrls(aws.clients.sqs, aws.names);
});
afterAll(async () => {
  await aws?.cleanup();
});

/** An SQS client that records the entry count of every SendMessageBatch it makes. */
function countingClient(): { sqs: SQSClient; batches: number[] } {
  const sqs = new SQSClient({
    region: TEST_AWS_CONFIG.awsRegion,
    endpoint: TEST_AWS_CONFIG.sqsEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const batches: number[] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageBatchCommand')
        batches.push((args.input as { Entries?: unknown[] }).Entries?.length ?? 0);
      return next(args);
    },
    { step: 'initialize', name: 'countBatches' },
  );
  return { sqs, batches };
}

async function drain(queueUrl: string, expected: number): Promise<Array<{ body: string; groupId?: string }>> {
  const out: Array<{ body: string; groupId?: string }> = [];
  for (let empty = 0; out.length < expected && empty < 3;) {
    const { Messages = [] } = await aws.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    if (Messages.length === 0) empty++;
    // Deleted as read: a FIFO group hands out its next messages only once those before are gone.
    else
      await aws.clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    out.push(...Messages.map((m) => ({ body: m.Body ?? '', groupId: m.Attributes?.MessageGroupId })));
  }
  return out;
}

const message = (body: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  body,
  attributes: { correlationId: `c-${body}` },
  ...extra,
});

it('25 messages sent by 25 callers at once go out in 3 SendMessageBatch calls (10, 10, 5), all delivered', async () => {
  const { sqs, batches } = countingClient();
  const sender = new BatchingSender(sqs, { windowMs: 20 });
  const bodies = Array.from({ length: 25 }, (_, i) => `m-${i}`);
  await Promise.all(bodies.map((b) => sender.send(queues.notification, [message(b)])));
  expect(batches).toEqual([10, 10, 5]);
  const received = await drain(queues.notification, 25);
  expect(received.map((m) => m.body).sort()).toEqual([...bodies].sort());
  sqs.destroy();
});

it('an entry SQS refuses (an invalid DelaySeconds) fails its own caller only: the others in its batch are sent', async () => {
  const { sqs, batches } = countingClient();
  const sender = new BatchingSender(sqs, { windowMs: 20 });
  const outcomes = await Promise.allSettled([
    sender.send(queues.inventory, [message('ok-1')]),
    // SQS accepts DelaySeconds 0..900: this entry is refused in the batch result (SenderFault).
    sender.send(queues.inventory, [message('bad', { delaySeconds: 1800 })]),
    sender.send(queues.inventory, [message('ok-2')]),
  ]);
  expect(batches).toEqual([3]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  const refused = (outcomes[1] as PromiseRejectedResult).reason as MessageRefusedError;
  expect(refused).toBeInstanceOf(MessageRefusedError);
  expect(refused.code).toBe('InvalidParameterValue');
  const received = await drain(queues.inventory, 2);
  expect(received.map((m) => m.body).sort()).toEqual(['ok-1', 'ok-2']);
  sqs.destroy();
});

it('a caller whose message is one of several rejects when any of its messages is refused, after the others were sent', async () => {
  const sender = new BatchingSender(aws.clients.sqs, { windowMs: 5 });
  const tooLarge = 'x'.repeat(SQS_MAX_MESSAGE_BYTES + 1);
  await expect(
    sender.send(queues.payment, [message('first'), message(tooLarge), message('third')]),
  ).rejects.toMatchObject({ name: 'MessageRefusedError', code: 'MessageTooLarge' });
  const received = await drain(queues.payment, 2);
  expect(received.map((m) => m.body).sort()).toEqual(['first', 'third']);
});

it('a batch SQS refuses as a whole (a FIFO entry without a group) is split: only the bad entry fails', async () => {
  const { sqs, batches } = countingClient();
  const sender = new BatchingSender(sqs, { windowMs: 20 });
  const fifo = (body: string, group: string | undefined) =>
    message(body, { groupId: group, deduplicationId: `d-${body}` });
  const outcomes = await Promise.allSettled([
    sender.send(queues.saga, [fifo('g1-a', 'g1')]),
    sender.send(queues.saga, [fifo('nogroup', undefined)]),
    sender.send(queues.saga, [fifo('g2-a', 'g2')]),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  // The batch of 3, then each entry alone.
  expect(batches).toEqual([3, 1, 1, 1]);
  const received = await drain(queues.saga, 2);
  expect(received.map((m) => m.body).sort()).toEqual(['g1-a', 'g2-a']);
});

it('FIFO: entries keep their group, and each group its order, across batches', async () => {
  const { sqs, batches } = countingClient();
  const sender = new BatchingSender(sqs, { windowMs: 5 });
  const sent: Array<Promise<void>> = [];
  for (let i = 0; i < 6; i++)
    for (const group of ['ga', 'gb', 'gc'])
      sent.push(
        sender.send(queues.saga, [message(`${group}-${i}`, { groupId: group, deduplicationId: `${group}-${i}` })]),
      );
  await Promise.all(sent);
  // At most one entry per group in a batch: a group's next message goes once the one before it was accepted.
  expect(batches.every((n) => n <= 3)).toBe(true);
  const received = await drain(queues.saga, 18);
  for (const group of ['ga', 'gb', 'gc']) {
    const inGroup = received.filter((m) => m.groupId === group).map((m) => m.body);
    expect(inGroup).toEqual(Array.from({ length: 6 }, (_, i) => `${group}-${i}`));
  }
  sqs.destroy();
});

it('refuses a window that is not a non-negative integer', () => {
  expect(() => new BatchingSender(aws.clients.sqs, { windowMs: -1 })).toThrow(RangeError);
});

describe('the adaptive linger (src/messaging/linger.ts)', () => {
  // A linger no test could wait out: a send that waited for it would fail the test by its timeout.
  const FOREVER_MS = 600_000;

  it('idle: a lone message goes at once, without waiting for the busy linger', async () => {
    const { sqs, batches } = countingClient();
    const sender = new BatchingSender(sqs, { windowMs: 0, lingerMs: FOREVER_MS });
    await sender.send(queues.notification, [message('lone')]);
    expect(batches).toEqual([1]);
    expect((await drain(queues.notification, 1)).map((m) => m.body)).toEqual(['lone']);
    sqs.destroy();
  });

  it('busy: a message sent soon after a batch went waits (up to the linger) for others, and they go together', async () => {
    const { sqs, batches } = countingClient();
    const sender = new BatchingSender(sqs, { windowMs: 0, lingerMs: 3000 });
    await sender.send(queues.notification, [message('first')]);
    // The queue's previous batch went just now: this one waits for company, up to 3 s.
    const second = sender.send(queues.notification, [message('second')]);
    await new Promise((r) => setTimeout(r, 50));
    const third = sender.send(queues.notification, [message('third')]);
    await Promise.all([second, third]);
    expect(batches).toEqual([1, 2]);
    expect((await drain(queues.notification, 3)).map((m) => m.body).sort()).toEqual(['first', 'second', 'third']);
    sqs.destroy();
  });

  it('flush() (stopping) sends what waits at once, and every later send goes without waiting', async () => {
    const { sqs, batches } = countingClient();
    const sender = new BatchingSender(sqs, { windowMs: 0, lingerMs: FOREVER_MS });
    await sender.send(queues.notification, [message('before')]);
    // Busy now: this one would wait for the linger.
    const waiting = sender.send(queues.notification, [message('waiting')]);
    await sender.flush();
    await waiting;
    await sender.send(queues.notification, [message('after')]);
    expect(batches).toEqual([1, 1, 1]);
    expect((await drain(queues.notification, 3)).map((m) => m.body).sort()).toEqual(['after', 'before', 'waiting']);
    sqs.destroy();
  });
});
