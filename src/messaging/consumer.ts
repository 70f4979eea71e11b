/**
 * One SQS consumer loop: receive → parse → handle → delete, with
 *  - a lease instead of the queue's visibility timeout: each receive hides its messages for
 *    `leaseSeconds`, and a heartbeat renews the lease of every message of a chain not yet done
 *    (the one being handled and the ones of its FIFO group waiting behind it). A worker that dies
 *    stops renewing, so its messages return after one lease, not after the queue's 30/60 s. A
 *    failed renewal means another worker may own the message now; handlers are idempotent, so
 *    that costs a duplicate, never a loss;
 *  - FIFO groups handled in order, one message at a time, different groups in parallel;
 *  - poison messages (unparseable, or a PoisonMessageError, or still failing after maxReceives)
 *    moved to the DLQ with their reason; other failures retried after a backoff; a
 *    RetryLaterError is a wait (seen again after its retryAfterMs), not a failure;
 *  - graceful stop: no new receives, in-flight handlers finish, then stop() resolves.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '../observability/logger';
import { sendToDeadLetterQueue } from './dead-letters';
import type { Parser } from './envelopes';
import { PoisonMessageError, RetryLaterError } from './errors';

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  receiveCount: number;
  groupId?: string;
  deduplicationId?: string;
  correlationId?: string;
  /** When SQS accepted it (ms since the epoch). */
  sentAt?: number;
}

export interface ConsumerOptions<T> {
  name: string;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  parse: Parser<T>;
  handle: (value: T, message: ReceivedMessage) => Promise<void>;
  /** How long a received message stays hidden; renewed every third of it while not done. */
  leaseSeconds: number;
  concurrency: number;
  waitSeconds: number;
  maxReceives: number;
  logger: Logger;
  /** Told of each message received (its age) and each handler failure (metrics). */
  observer?: ConsumerObserver;
}

/** How a handler failed: poison (to the DLQ at once), exhausted (DLQ after maxReceives), retry. */
export type HandlerErrorKind = 'poison' | 'exhausted' | 'retry' | 'retry_later';

export interface ConsumerObserver {
  /** A message was received `ageMs` after it was sent. */
  received(consumer: string, ageMs: number): void;
  /** A handler failed; `error` is the error's class name. */
  failed(consumer: string, kind: HandlerErrorKind, error: string): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Backoff before a failed message is seen again: 1, 2, 4 … capped at 30 s. */
export function retryDelaySeconds(receiveCount: number): number {
  return Math.min(30, 2 ** Math.max(0, receiveCount - 1));
}

function toReceived(m: Message): ReceivedMessage {
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
    sentAt: m.Attributes?.SentTimestamp === undefined ? undefined : Number(m.Attributes.SentTimestamp),
    groupId: m.Attributes?.MessageGroupId,
    deduplicationId: m.Attributes?.MessageDeduplicationId,
    correlationId: m.MessageAttributes?.correlationId?.StringValue,
  };
}

export class QueueConsumer<T> {
  private running = false;
  private loop: Promise<void> | undefined;
  private inFlight = 0;
  private readonly idle: Array<() => void> = [];
  private deletes: ReceivedMessage[] = [];
  private deleteTimer: NodeJS.Timeout | undefined;
  private pendingDeleteFlush: Promise<void> = Promise.resolve();

  constructor(private readonly options: ConsumerOptions<T>) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops receiving, lets in-flight handlers finish, flushes deletes. The open long poll is not
   * aborted but allowed to return (at most `waitSeconds`): a poll cut off client-side can still be
   * handed a message server-side, which would then sit invisible for its visibility timeout.
   * Whatever it returns is handled like the rest.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wake of this.idle.splice(0)) wake();
    await this.loop;
    while (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
    await this.flushDeletes();
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl, concurrency, waitSeconds, logger, name } = this.options;
    while (this.running) {
      const free = concurrency - this.inFlight;
      if (free <= 0) {
        await new Promise<void>((r) => this.idle.push(r));
        continue;
      }
      let messages: Message[] = [];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, free),
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: this.options.leaseSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId', 'MessageDeduplicationId', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (!this.running) break;
        logger.warn('receive failed; backing off', { consumer: name, error: (error as Error).message });
        await sleep(500);
        continue;
      }
      const received = messages.map(toReceived);
      const observer = this.options.observer;
      if (observer) {
        const now = Date.now();
        for (const m of received) if (m.sentAt !== undefined) observer.received(name, Math.max(0, now - m.sentAt));
      }
      for (const chain of this.chains(received)) {
        this.inFlight += chain.length;
        void this.processChain(chain);
      }
    }
  }

  /** FIFO: one chain per group, in order. Standard: every message is its own chain. */
  private chains(messages: ReceivedMessage[]): ReceivedMessage[][] {
    const byGroup = new Map<string, ReceivedMessage[]>();
    const chains: ReceivedMessage[][] = [];
    for (const m of messages) {
      if (!m.groupId) {
        chains.push([m]);
        continue;
      }
      const chain = byGroup.get(m.groupId);
      if (chain) chain.push(m);
      else {
        const fresh = [m];
        byGroup.set(m.groupId, fresh);
        chains.push(fresh);
      }
    }
    return chains;
  }

  private async processChain(chain: ReceivedMessage[]): Promise<void> {
    const pending = new Set(chain);
    const heartbeat = this.renewLeases(pending);
    try {
      for (let i = 0; i < chain.length; i++) {
        const message = chain[i]!;
        // Out of `pending` before its own visibility change, which a renewal must not override.
        const ok = await this.processOne(message, () => pending.delete(message)).catch((error: unknown) => {
          this.options.logger.error('message handling crashed', { consumer: this.options.name, error: String(error) });
          return false;
        });
        pending.delete(message);
        this.release(1);
        if (!ok) {
          // Later messages of a FIFO group must wait for this one: hand them back untouched.
          const rest = chain.slice(i + 1);
          rest.forEach((m) => pending.delete(m));
          await Promise.all(rest.map((m) => this.setVisibility(m, 0).catch(() => undefined)));
          this.release(rest.length);
          return;
        }
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Every third of a lease, renews it for each message still in `pending`. */
  private renewLeases(pending: Set<ReceivedMessage>): NodeJS.Timeout {
    const { leaseSeconds, logger, name } = this.options;
    return setInterval(() => {
      for (const message of pending) {
        this.setVisibility(message, leaseSeconds).catch((error: unknown) =>
          logger.warn('lease renewal failed: another worker may now hold this message', {
            consumer: name,
            messageId: message.messageId,
            error: String(error),
          }),
        );
      }
    }, Math.max(1000, (leaseSeconds * 1000) / 3));
  }

  private release(count: number): void {
    this.inFlight -= count;
    for (const wake of this.idle.splice(0)) wake();
  }

  /**
   * Returns true when the message is done with (handled or dead-lettered). `settled` is called as
   * soon as the handler has answered, before the message is deleted or its visibility changed.
   */
  private async processOne(message: ReceivedMessage, settled: () => void): Promise<boolean> {
    const { parse, handle, logger, name, maxReceives } = this.options;
    const parsed = parse(message.body);
    if (!parsed.ok) {
      settled();
      this.options.observer?.failed(name, 'poison', 'UnparseableMessage');
      await this.deadLetter(message, `poison: ${parsed.reason}`);
      return true;
    }
    try {
      await handle(parsed.value, message);
      settled();
      this.scheduleDelete(message);
      return true;
    } catch (error) {
      settled();
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const errorName = error instanceof Error ? error.name : typeof error;
      const kind: HandlerErrorKind =
        error instanceof RetryLaterError ? 'retry_later' : error instanceof PoisonMessageError ? 'poison' : message.receiveCount >= maxReceives ? 'exhausted' : 'retry';
      this.options.observer?.failed(name, kind, errorName);
      if (error instanceof RetryLaterError) {
        logger.debug('handler asked to retry later', { consumer: name, messageId: message.messageId, error: reason });
        await this.setVisibility(message, Math.min(43200, Math.ceil(error.retryAfterMs / 1000))).catch(() => undefined);
        return false;
      }
      if (error instanceof PoisonMessageError || message.receiveCount >= maxReceives) {
        await this.deadLetter(message, error instanceof PoisonMessageError ? `poison: ${reason}` : `failed ${message.receiveCount} times: ${reason}`);
        return true;
      }
      logger.warn('handler failed; will retry', {
        consumer: name,
        messageId: message.messageId,
        receiveCount: message.receiveCount,
        correlationId: message.correlationId,
        error: reason,
      });
      await this.setVisibility(message, retryDelaySeconds(message.receiveCount)).catch(() => undefined);
      return false;
    }
  }

  private async deadLetter(message: ReceivedMessage, reason: string): Promise<void> {
    const { sqs, dlqUrl, queueUrl, logger, name } = this.options;
    logger.error('message moved to the DLQ', { consumer: name, messageId: message.messageId, reason, correlationId: message.correlationId });
    await sendToDeadLetterQueue(sqs, dlqUrl, {
      body: message.body,
      reason,
      sourceQueueUrl: queueUrl,
      originalMessageId: message.messageId,
      receiveCount: message.receiveCount,
      groupId: message.groupId,
      deduplicationId: message.deduplicationId,
      correlationId: message.correlationId,
    });
    this.scheduleDelete(message);
  }

  private setVisibility(message: ReceivedMessage, seconds: number): Promise<unknown> {
    return this.options.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  /** Deletes go out in batches of up to 10, a few milliseconds apart. */
  private scheduleDelete(message: ReceivedMessage): void {
    this.deletes.push(message);
    if (this.deletes.length >= 10) void this.flushDeletes();
    else if (!this.deleteTimer) this.deleteTimer = setTimeout(() => void this.flushDeletes(), 5);
  }

  private flushDeletes(): Promise<void> {
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    const batch = this.deletes.splice(0, 10);
    if (batch.length > 0) {
      this.pendingDeleteFlush = this.pendingDeleteFlush.then(() => this.deleteBatch(batch));
    }
    if (this.deletes.length > 0) return this.flushDeletes();
    return this.pendingDeleteFlush;
  }

  private async deleteBatch(batch: ReceivedMessage[]): Promise<void> {
    try {
      const { Failed = [] } = await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })),
        }),
      );
      // A failed delete means the message comes back; handlers are idempotent, so that is safe.
      if (Failed.length > 0) this.options.logger.warn('some deletes failed', { consumer: this.options.name, failed: Failed.length });
    } catch (error) {
      this.options.logger.warn('delete batch failed; messages will be redelivered', { consumer: this.options.name, error: String(error) });
    }
  }
}
