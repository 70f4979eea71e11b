/**
 * The consumer's bounds, as pure logic: a handler deadline, a stop deadline and the option checks.
 * SQS is a stub here (the brief allows pure logic alone); what the consumer does on a real queue is
 * consumer.test.ts's job. Jest's fake clock makes each case run in milliseconds.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Writable } from 'node:stream';
import winston from 'winston';
import {
  ConsumerOptionsError,
  QueueConsumer,
  validateConsumerOptions,
  type ConsumerOptions,
} from '../../src/messaging/consumer';
import type { Parser } from '../../src/messaging/envelopes';

/** Records every log line, so a test can see what the consumer said. */
function recorder() {
  const lines: Array<{ level: string; message: string }> = [];
  const stream = new Writable({
    objectMode: true,
    write(info: { level: string; message: string }, _encoding, done) {
      lines.push({ level: info.level, message: info.message });
      done();
    },
  });
  return {
    lines,
    logger: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }),
  };
}

/** A stub SQS: hands out `messages` on the first receive, nothing after; records every call. */
function stubSqs(messages: Message[]) {
  const calls: Array<{ kind: string; receiptHandle?: string; seconds?: number; at: number }> = [];
  let pending = [...messages];
  const sqs = {
    send: async (command: unknown) => {
      if (command instanceof ReceiveMessageCommand) {
        const out = pending;
        pending = [];
        // An empty poll waits like a long poll would, so the loop does not spin.
        if (out.length === 0) await new Promise((r) => setTimeout(r, 50));
        calls.push({ kind: 'receive', at: Date.now() });
        return { Messages: out };
      }
      if (command instanceof ChangeMessageVisibilityCommand) {
        calls.push({
          kind: 'visibility',
          receiptHandle: command.input.ReceiptHandle,
          seconds: command.input.VisibilityTimeout,
          at: Date.now(),
        });
        return {};
      }
      if (command instanceof DeleteMessageBatchCommand) {
        for (const e of command.input.Entries ?? [])
          calls.push({ kind: 'delete', receiptHandle: e.ReceiptHandle, at: Date.now() });
        return { Failed: [] };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as SQSClient;
  return { sqs, calls };
}

const message = (id: string): Message => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: id,
  Attributes: { ApproximateReceiveCount: '1' },
});
const parse: Parser<string> = (body) => ({ ok: true, value: body });
const never = () => new Promise<void>(() => undefined);

function build(sqs: SQSClient, handle: (body: string) => Promise<void>, extra: Partial<ConsumerOptions<string>> = {}) {
  const log = recorder();
  const consumer = new QueueConsumer<string>({
    name: 'bounds',
    sqs,
    queueUrl: 'q',
    dlqUrl: 'dlq',
    parse,
    handle,
    leaseSeconds: 3,
    concurrency: 1,
    waitSeconds: 0,
    maxReceives: 5,
    logger: log.logger,
    handlerTimeoutMs: 1500,
    stopTimeoutMs: 500,
    ...extra,
  });
  return { consumer, recorder: log };
}

const renewals = (calls: ReturnType<typeof stubSqs>['calls'], id: string) =>
  calls.filter((c) => c.kind === 'visibility' && c.receiptHandle === `rh-${id}` && c.seconds === 3);

beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

describe('handler deadline', () => {
  it('renews a slow handler within its deadline and deletes its message when it ends', async () => {
    const { sqs, calls } = stubSqs([message('slow')]);
    const { consumer } = build(sqs, () => new Promise((r) => setTimeout(r, 1200)));
    consumer.start();
    await jest.advanceTimersByTimeAsync(1300);
    expect(renewals(calls, 'slow')).toHaveLength(1); // at 1 s: a third of the 3-s lease
    expect(calls.filter((c) => c.kind === 'delete').map((c) => c.receiptHandle)).toEqual(['rh-slow']);
    const stopped = consumer.stop();
    await jest.advanceTimersByTimeAsync(100);
    await stopped;
  });

  it('abandons a handler past its deadline: no more renewals, no delete, its slot freed, an error logged', async () => {
    const handled: string[] = [];
    const { sqs, calls } = stubSqs([message('hangs'), message('next')]);
    // concurrency 1: the second message can only run once the first one's slot is freed.
    const { consumer, recorder } = build(sqs, (body) => {
      handled.push(body);
      return body === 'hangs' ? never() : Promise.resolve();
    });
    consumer.start();
    await jest.advanceTimersByTimeAsync(1400);
    expect(renewals(calls, 'hangs')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(3000); // past the 1.5-s deadline, through two more heartbeats
    expect(renewals(calls, 'hangs')).toHaveLength(1);
    expect(calls.some((c) => c.kind === 'delete' && c.receiptHandle === 'rh-hangs')).toBe(false);
    expect(recorder.lines.some((l) => l.level === 'error' && l.message.includes('abandoned'))).toBe(true);
    // The stub handed both messages out in one batch: the second was received with the first, and
    // ran once the abandoned handler gave its slot back.
    expect(handled).toEqual(['hangs', 'next']);
    expect(calls.some((c) => c.kind === 'delete' && c.receiptHandle === 'rh-next')).toBe(true);
    const stopped = consumer.stop();
    await jest.advanceTimersByTimeAsync(100);
    await stopped;
  });
});

describe('stop deadline', () => {
  it('resolves after stopTimeoutMs with a handler still running, and renews its lease no more', async () => {
    const { sqs, calls } = stubSqs([message('stuck')]);
    const { consumer, recorder } = build(sqs, never, { handlerTimeoutMs: 60_000 });
    consumer.start();
    await jest.advanceTimersByTimeAsync(1100);
    expect(renewals(calls, 'stuck')).toHaveLength(1);
    let resolved = false;
    const stopped = consumer.stop().then(() => (resolved = true));
    await jest.advanceTimersByTimeAsync(400);
    expect(resolved).toBe(false);
    await jest.advanceTimersByTimeAsync(200); // past the 500-ms stop deadline
    await stopped;
    expect(resolved).toBe(true);
    expect(recorder.lines.some((l) => l.level === 'warn' && l.message.includes('stop deadline'))).toBe(true);
    await jest.advanceTimersByTimeAsync(5000);
    expect(renewals(calls, 'stuck')).toHaveLength(1);
  });

  it('hands back at once the messages received but not started (the rest of a FIFO chain), and never runs them', async () => {
    const inGroup = (id: string): Message => ({
      ...message(id),
      Attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'g' },
    });
    const { sqs, calls } = stubSqs([inGroup('first'), inGroup('second')]);
    const handled: string[] = [];
    let finish: () => void = () => undefined;
    const { consumer } = build(
      sqs,
      (body) => {
        handled.push(body);
        return body === 'first' ? new Promise<void>((r) => (finish = r)) : Promise.resolve();
      },
      { handlerTimeoutMs: 60_000, concurrency: 2 },
    );
    consumer.start();
    await jest.advanceTimersByTimeAsync(100);
    expect(handled).toEqual(['first']);
    const stopped = consumer.stop();
    await jest.advanceTimersByTimeAsync(600); // past the 500-ms stop deadline
    await stopped;
    // 'second' is visible again at once, for another worker; 'first' keeps its (lapsing) lease.
    expect(calls.filter((c) => c.kind === 'visibility' && c.seconds === 0).map((c) => c.receiptHandle)).toEqual([
      'rh-second',
    ]);
    // The abandoned handler ends late: the handed-back message is not run here.
    finish();
    await jest.advanceTimersByTimeAsync(100);
    expect(handled).toEqual(['first']);
  });

  it('resolves as soon as in-flight work is done, well before the deadline', async () => {
    const { sqs } = stubSqs([message('quick')]);
    const { consumer, recorder } = build(sqs, () => new Promise((r) => setTimeout(r, 100)), { stopTimeoutMs: 10_000 });
    consumer.start();
    await jest.advanceTimersByTimeAsync(10);
    let resolved = false;
    const stopped = consumer.stop().then(() => (resolved = true));
    await jest.advanceTimersByTimeAsync(200);
    await stopped;
    expect(resolved).toBe(true);
    expect(recorder.lines.some((l) => l.message.includes('stop deadline'))).toBe(false);
  });
});

describe('option checks where the consumer is built', () => {
  const base = (): ConsumerOptions<unknown> => ({
    name: 'opts',
    sqs: stubSqs([]).sqs,
    queueUrl: 'q',
    dlqUrl: 'dlq',
    parse,
    handle: async () => undefined,
    leaseSeconds: 10,
    concurrency: 8,
    waitSeconds: 10,
    maxReceives: 5,
    logger: winston.createLogger({ silent: true }),
  });

  it('accepts the defaults the service runs with', () => {
    expect(() => validateConsumerOptions(base())).not.toThrow();
  });

  it.each<[string, Partial<ConsumerOptions<unknown>>, RegExp]>([
    [
      'a heartbeat not shorter than half the lease',
      { leaseSeconds: 1 },
      /heartbeat \(1000 ms\) must be at most half the lease \(1 s\)/,
    ],
    ['a lease past SQS 12 h visibility limit', { leaseSeconds: 43_201 }, /leaseSeconds must be an integer in 1–43200/],
    ['a fractional lease', { leaseSeconds: 2.5 }, /leaseSeconds/],
    ['a long poll past SQS 20 s', { waitSeconds: 21 }, /waitSeconds must be an integer in 0–20/],
    ['no concurrency', { concurrency: 0 }, /concurrency/],
    ['no receives before the DLQ', { maxReceives: 0 }, /maxReceives/],
    ['a handler deadline of 0', { handlerTimeoutMs: 0 }, /handlerTimeoutMs/],
    ['a handler deadline past 12 h', { handlerTimeoutMs: 43_200_001 }, /handlerTimeoutMs/],
    [
      'a stop deadline shorter than the long poll',
      { stopTimeoutMs: 9_999 },
      /stopTimeoutMs must be an integer in 10000–/,
    ],
  ])('refuses %s', (_label, change, reason) => {
    const options = { ...base(), ...change };
    expect(() => validateConsumerOptions(options)).toThrow(ConsumerOptionsError);
    expect(() => validateConsumerOptions(options)).toThrow(reason);
    expect(() => new QueueConsumer(options)).toThrow(ConsumerOptionsError);
  });
});
