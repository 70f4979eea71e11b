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
 *  - bounds, as bbc/sqs-consumer has them: a handler deadline (a handler still running after
 *    `handlerTimeoutMs` is abandoned: its lease is no longer renewed, so the message returns to
 *    the queue after at most one lease, and its slot is freed), and a stop deadline (stop() waits
 *    at most `stopTimeoutMs`, then stops renewing every lease it still holds and resolves);
 *  - graceful stop: no new receives, in-flight handlers finish, then stop() resolves.
 *
 * The options are checked where the consumer is built (validateConsumerOptions), whoever builds it.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_RECEIVE_MESSAGES,
  SQS_MAX_VISIBILITY_SECONDS,
  SQS_MAX_WAIT_SECONDS,
} from '../aws/sqs-limits';
import { DEFAULT_HANDLER_TIMEOUT_MS } from '../config/ranges';
import type { Logger } from '../observability/logger';
import { sendToDeadLetterQueue } from './dead-letters';
import type { Parser } from './envelopes';
import { PoisonMessageError, RetryLaterError } from './errors';
import { Linger } from './linger';

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
  /**
   * The queue's redrive policy `maxReceiveCount`: SQS delivers a message that many times, then
   * moves it to the DLQ itself, without a reason. A RetryLaterError is not counted against
   * `maxReceives` (it is a wait), but each wait is a receive: at that last delivery a message that
   * still waits is dead-lettered here instead, with its reason. Unset: no such check.
   */
  redriveMaxReceives?: number;
  logger: Logger;
  /** Told of each message received (its age) and each handler failure (metrics). */
  observer?: ConsumerObserver;
  /**
   * ms a handler may run before it is abandoned (default 120,000). At most 12 h: SQS refuses to
   * extend a message's visibility past 12 h from its receipt.
   */
  handlerTimeoutMs?: number;
  /** ms stop() waits for in-flight handlers and the open long poll (default 30,000). */
  stopTimeoutMs?: number;
  /**
   * ms a handled message's delete may wait for others when the queue is busy (a DeleteMessageBatch
   * went at most this long ago), so that fuller batches go; a standard queue only (default 250, at
   * most leaseSeconds × 50: see maxDeleteLingerMs). On a FIFO queue a delete is on the group's
   * latency path (its next message waits for it), so it waits only DELETE_WINDOW_MS there.
   */
  deleteLingerMs?: number;
  /**
   * ms the next receive waits after one that returned messages but fewer than it asked for (the queue
   * is busy but drained for now), so that it collects what arrives meanwhile (default 10). Never
   * after an empty receive (idle: the long poll is open at once) nor after a full one (a backlog).
   */
  receiveLingerMs?: number;
}

/**
 * How a handler failed: poison (to the DLQ at once), exhausted (DLQ after maxReceives), retry,
 * retry_later (the handler asked to be called again later), timeout (abandoned past its deadline).
 */
export type HandlerErrorKind = 'poison' | 'exhausted' | 'retry' | 'retry_later' | 'timeout';

export interface ConsumerObserver {
  /** A message was received `ageMs` after it was sent. */
  received(consumer: string, ageMs: number): void;
  /** A handler failed; `error` is the error's class name. */
  failed(consumer: string, kind: HandlerErrorKind, error: string): void;
  /**
   * `count` handled messages could not be deleted (a DeleteMessageBatch entry failed, or the whole
   * call): they will be delivered again, which handlers absorb (idempotent), but it costs a redo.
   */
  deleteFailed?(consumer: string, count: number): void;
}

export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** ms a delete waits for others when the queue is idle: the deletes of handlers finishing together. */
export const DELETE_WINDOW_MS = 5;
/**
 * The default of deleteLingerMs (ms). A delete is off the latency path on a standard queue; 250 ms
 * lets ~4–8 deletes share a call at 16–32 messages/s a queue, and is at most a twentieth of what is
 * left of the default 10-s lease when a handler ends (>= 5 s). A worker that dies meanwhile loses its pending deletes:
 * those messages come back after their lease, and handlers are idempotent (a redo, not a loss).
 */
export const DEFAULT_DELETE_LINGER_MS = 250;
/**
 * The longest deleteLingerMs for a lease (ms): a tenth of the shortest lease left when a handler ends
 * (at least half a lease, since the heartbeat renews it every third and at most every half), so that
 * a delete reaches SQS well before the message could be handed to another worker.
 */
export function maxDeleteLingerMs(leaseSeconds: number): number {
  return (leaseSeconds * 1000) / 2 / 10;
}
/**
 * The default of receiveLingerMs (ms): 10 ms per hop on the latency path buys ~0.3 more messages a
 * receive at 32 messages/s; short against a step's own AWS calls (a hop is 4 on an order's path).
 */
export const DEFAULT_RECEIVE_LINGER_MS = 10;

/** The heartbeat period: a third of the lease, at least 1 s (ms). */
export function heartbeatMs(leaseSeconds: number): number {
  return Math.max(1000, (leaseSeconds * 1000) / 3);
}

/** A consumer built with options it cannot honour. */
export class ConsumerOptionsError extends RangeError {
  override readonly name: string = 'ConsumerOptionsError';
}

/**
 * Checks the rules between the options, whoever builds the consumer (config checks each variable
 * alone; these are the relations). Throws ConsumerOptionsError naming every broken rule:
 *  - leaseSeconds: an integer 1–43,200 (SQS's visibility limit), and the heartbeat must be at most
 *    half the lease, so that one late renewal does not lose the message (so leaseSeconds >= 2);
 *  - waitSeconds: an integer 0–20 (SQS's long-poll limit);
 *  - concurrency: an integer >= 1 (receives ask for at most 10 at a time, SQS's batch limit);
 *  - maxReceives: an integer >= 1;
 *  - handlerTimeoutMs: an integer 1 ms – 12 h;
 *  - stopTimeoutMs: an integer >= waitSeconds × 1000, since stop() lets the open long poll return;
 *  - deleteLingerMs: an integer 0 – maxDeleteLingerMs(leaseSeconds) (a tenth of the lease left);
 *  - receiveLingerMs: an integer 0 – 1000 (past a second it would be a short poll's latency).
 */
export function validateConsumerOptions(options: ConsumerOptions<unknown>): void {
  const problems: string[] = [];
  const intIn = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${name} must be an integer in ${min}–${max}, got ${value}`);
  };
  const { leaseSeconds, waitSeconds, concurrency, maxReceives } = options;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  intIn('leaseSeconds', leaseSeconds, 1, SQS_MAX_VISIBILITY_SECONDS);
  if (Number.isInteger(leaseSeconds) && heartbeatMs(leaseSeconds) * 2 > leaseSeconds * 1000) {
    problems.push(`the heartbeat (${heartbeatMs(leaseSeconds)} ms) must be at most half the lease (${leaseSeconds} s)`);
  }
  intIn('waitSeconds', waitSeconds, 0, SQS_MAX_WAIT_SECONDS);
  intIn('concurrency', concurrency, 1);
  intIn('maxReceives', maxReceives, 1);
  intIn('handlerTimeoutMs', handlerTimeoutMs, 1, SQS_MAX_VISIBILITY_SECONDS * 1000);
  intIn('stopTimeoutMs', stopTimeoutMs, Number.isInteger(waitSeconds) ? waitSeconds * 1000 : 0);
  if (options.deleteLingerMs !== undefined)
    intIn('deleteLingerMs', options.deleteLingerMs, 0, Math.floor(maxDeleteLingerMs(leaseSeconds)));
  if (options.receiveLingerMs !== undefined) intIn('receiveLingerMs', options.receiveLingerMs, 0, 1000);
  if (problems.length > 0) throw new ConsumerOptionsError(`consumer ${options.name}: ${problems.join('; ')}`);
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
  /**
   * Received messages whose handler has not started (the later messages of a FIFO chain): a stop
   * past its deadline hands them back at once (visibility 0) instead of letting their lease lapse.
   */
  private readonly notStarted = new Set<ReceivedMessage>();
  /** Every running heartbeat, so that a stop past its deadline can end them all. */
  private readonly heartbeats = new Set<NodeJS.Timeout>();
  private readonly handlerTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly receiveLingerMs: number;
  /** When the last DeleteMessageBatch went: how long the next partial one may wait. */
  private readonly deleteLinger: Linger;
  /** Ends the wait between two receives at once (stop). */
  private wakeReceive: (() => void) | undefined;

  /** @throws ConsumerOptionsError when the options break a rule of validateConsumerOptions. */
  constructor(private readonly options: ConsumerOptions<T>) {
    validateConsumerOptions(options as ConsumerOptions<unknown>);
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.receiveLingerMs = options.receiveLingerMs ?? DEFAULT_RECEIVE_LINGER_MS;
    const busyMs = options.queueUrl.endsWith('.fifo')
      ? DELETE_WINDOW_MS
      : (options.deleteLingerMs ??
        Math.min(DEFAULT_DELETE_LINGER_MS, Math.floor(maxDeleteLingerMs(options.leaseSeconds))));
    this.deleteLinger = new Linger({ idleMs: Math.min(DELETE_WINDOW_MS, busyMs), busyMs });
  }

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
   *
   * Waits at most `stopTimeoutMs`. Past it, the messages received but not yet started are handed
   * back at once (visibility 0, for another worker; a FIFO group keeps its order, since the
   * message before them is still held), the leases of the messages whose handler still runs stop
   * being renewed (they return to the queue within one lease), and stop() resolves; handlers still
   * running are abandoned, not killed.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wake of this.idle.splice(0)) wake();
    this.wakeReceive?.();
    const drained = (async () => {
      await this.loop;
      while (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
      await this.flushDeletes();
      return true;
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((r) => (timer = setTimeout(() => r(false), this.stopTimeoutMs)));
    const finished = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (!finished) {
      this.options.logger.warn('stop deadline passed: abandoning in-flight messages', {
        consumer: this.options.name,
        inFlight: this.inFlight,
        stopTimeoutMs: this.stopTimeoutMs,
      });
      for (const heartbeat of this.heartbeats) clearInterval(heartbeat);
      this.heartbeats.clear();
      const back = [...this.notStarted];
      this.notStarted.clear();
      await Promise.all(back.map((m) => this.setVisibility(m, 0).catch(() => undefined)));
      if (back.length > 0)
        this.options.logger.info('stop: handed back messages not yet started', {
          consumer: this.options.name,
          count: back.length,
        });
      await this.flushDeletes();
    }
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl, concurrency, waitSeconds, logger, name } = this.options;
    while (this.running) {
      const free = concurrency - this.inFlight;
      if (free <= 0) {
        await new Promise<void>((r) => this.idle.push(r));
        continue;
      }
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            // Up to 10 a receive (SQS's limit), as many as there are free slots.
            MaxNumberOfMessages: Math.min(SQS_MAX_RECEIVE_MESSAGES, free),
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: this.options.leaseSeconds,
            MessageSystemAttributeNames: [
              'ApproximateReceiveCount',
              'MessageGroupId',
              'MessageDeduplicationId',
              'SentTimestamp',
            ],
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
      // Some, but fewer than asked: the queue is busy and drained for now, so the next receive
      // waits a little to collect more. Empty (idle) or full (a backlog): the next one goes at once.
      if (messages.length > 0 && messages.length < Math.min(SQS_MAX_RECEIVE_MESSAGES, free))
        await this.lingerBeforeReceive();
    }
  }

  /** Waits receiveLingerMs, or until stop(). */
  private async lingerBeforeReceive(): Promise<void> {
    if (this.receiveLingerMs === 0 || !this.running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => ((this.wakeReceive = undefined), resolve()), this.receiveLingerMs);
      this.wakeReceive = () => {
        clearTimeout(timer);
        this.wakeReceive = undefined;
        resolve();
      };
    });
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
    for (const m of chain) this.notStarted.add(m);
    const heartbeat = this.renewLeases(pending);
    try {
      for (let i = 0; i < chain.length; i++) {
        const message = chain[i];
        if (!this.notStarted.delete(message)) {
          // Handed back by a stop past its deadline: another worker has them now.
          chain.slice(i).forEach((m) => pending.delete(m));
          this.release(chain.length - i);
          return;
        }
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
          rest.forEach((m) => (pending.delete(m), this.notStarted.delete(m)));
          await Promise.all(rest.map((m) => this.setVisibility(m, 0).catch(() => undefined)));
          this.release(rest.length);
          return;
        }
      }
    } finally {
      clearInterval(heartbeat);
      this.heartbeats.delete(heartbeat);
    }
  }

  /** Every third of a lease, renews it for each message still in `pending`. */
  private renewLeases(pending: Set<ReceivedMessage>): NodeJS.Timeout {
    const { leaseSeconds, logger, name } = this.options;
    const heartbeat = setInterval(() => {
      for (const message of pending) {
        this.setVisibility(message, leaseSeconds).catch((error: unknown) =>
          logger.warn('lease renewal failed: another worker may now hold this message', {
            consumer: name,
            messageId: message.messageId,
            error: String(error),
          }),
        );
      }
    }, heartbeatMs(leaseSeconds));
    this.heartbeats.add(heartbeat);
    return heartbeat;
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
      const outcome = await this.withDeadline(handle(parsed.value, message));
      if (outcome === 'abandoned') {
        // No more renewals: the message comes back after its lease, for this or another worker,
        // and counts one more receive. Handlers are idempotent, so a late finish here is harmless.
        settled();
        this.options.observer?.failed(name, 'timeout', 'HandlerDeadlinePassed');
        logger.error('handler passed its deadline: abandoned, its lease is no longer renewed', {
          consumer: name,
          messageId: message.messageId,
          receiveCount: message.receiveCount,
          correlationId: message.correlationId,
          handlerTimeoutMs: this.handlerTimeoutMs,
        });
        return false;
      }
      settled();
      this.scheduleDelete(message);
      return true;
    } catch (error) {
      settled();
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const errorName = error instanceof Error ? error.name : typeof error;
      const kind: HandlerErrorKind =
        error instanceof RetryLaterError
          ? 'retry_later'
          : error instanceof PoisonMessageError
            ? 'poison'
            : message.receiveCount >= maxReceives
              ? 'exhausted'
              : 'retry';
      this.options.observer?.failed(name, kind, errorName);
      const { redriveMaxReceives } = this.options;
      if (
        error instanceof RetryLaterError &&
        redriveMaxReceives !== undefined &&
        message.receiveCount >= redriveMaxReceives
      ) {
        await this.deadLetter(message, `waited ${message.receiveCount} times: ${reason}`);
        return true;
      }
      if (error instanceof RetryLaterError) {
        logger.debug('handler asked to retry later', { consumer: name, messageId: message.messageId, error: reason });
        await this.setVisibility(
          message,
          Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.ceil(error.retryAfterMs / 1000)),
        ).catch(() => undefined);
        return false;
      }
      if (error instanceof PoisonMessageError || message.receiveCount >= maxReceives) {
        await this.deadLetter(
          message,
          error instanceof PoisonMessageError ? `poison: ${reason}` : `failed ${message.receiveCount} times: ${reason}`,
        );
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

  /** Resolves 'done' when `work` settles in time (rejecting as it does), 'abandoned' otherwise. */
  private async withDeadline(work: Promise<void>): Promise<'done' | 'abandoned'> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'abandoned'>((r) => (timer = setTimeout(() => r('abandoned'), this.handlerTimeoutMs)));
    // The abandoned handler may still fail later; that rejection is nobody's to handle.
    work.catch(() => undefined);
    try {
      return await Promise.race([work.then(() => 'done' as const), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async deadLetter(message: ReceivedMessage, reason: string): Promise<void> {
    const { sqs, dlqUrl, queueUrl, logger, name } = this.options;
    logger.error('message moved to the DLQ', {
      consumer: name,
      messageId: message.messageId,
      reason,
      correlationId: message.correlationId,
    });
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

  /**
   * Deletes go out in DeleteMessageBatch calls of up to 10, across chains: a full batch at once,
   * otherwise within DELETE_WINDOW_MS of the first waiting delete when the queue is idle, and within
   * deleteLingerMs when it is busy (src/messaging/linger.ts). stop() sends what waits.
   */
  private scheduleDelete(message: ReceivedMessage): void {
    this.deletes.push(message);
    if (this.deletes.length >= SQS_MAX_BATCH_ENTRIES) void this.flushDeletes();
    else if (!this.deleteTimer)
      this.deleteTimer = setTimeout(() => void this.flushDeletes(), this.deleteLinger.delayMs());
  }

  private flushDeletes(): Promise<void> {
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    const batch = this.deletes.splice(0, SQS_MAX_BATCH_ENTRIES);
    if (batch.length > 0) {
      this.deleteLinger.flushed();
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
      if (Failed.length > 0) {
        this.options.logger.warn('some deletes failed; those messages will be redelivered', {
          consumer: this.options.name,
          failed: Failed.length,
          entries: batch.length,
          codes: [...new Set(Failed.map((f) => f.Code))],
          messageIds: Failed.map((f) => batch[Number(f.Id)]?.messageId),
        });
        this.options.observer?.deleteFailed?.(this.options.name, Failed.length);
      }
    } catch (error) {
      this.options.logger.warn('delete batch failed; messages will be redelivered', {
        consumer: this.options.name,
        entries: batch.length,
        error: String(error),
      });
      this.options.observer?.deleteFailed?.(this.options.name, batch.length);
    }
  }
}
