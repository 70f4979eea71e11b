/**
 * Sends messages across callers in SendMessageBatch calls (issue 25, decision 3): what different
 * sagas send to one queue while a batch waits goes out together, up to 10 entries and 256 KiB a call
 * (the SQS limits, src/aws/sqs-limits.ts); a batch that is full goes at once. How long a partial
 * batch waits adapts to the load (src/messaging/linger.ts): when the previous batch to that queue went
 * at most `lingerMs` ago (the queue is busy) it waits up to `lingerMs` (SEND_BATCH_LINGER_MS) to fill;
 * otherwise (idle) at most `windowMs` (SEND_BATCH_WINDOW_MS, src/config/ranges.ts), so that a lone
 * message of an idle system does not wait for company that will not come.
 *
 * Each caller's promise settles with its own entries only:
 *  - resolved when SQS accepted every one of them;
 *  - rejected (MessageRefusedError) when SQS refused one for good (a sender fault, e.g. an invalid
 *    DelaySeconds), when one is larger than a message may be, or when a transient failure outlasts
 *    the retries. The caller then keeps its outbox pending (the runtime leaves its input message
 *    undeleted; the sweeper re-sends), so a refused send is never reported as sent.
 *  - A transient per-entry failure retries that entry only; a batch SQS refuses as a whole for a
 *    client error is split into single entries, so that one bad entry fails only its own caller.
 *
 * FIFO queues: each entry keeps its MessageGroupId and MessageDeduplicationId. Order within a group
 * is kept by sending a FIFO queue's batches one after another, with at most one entry per group in
 * a batch: a group's next message goes only once the one before it was accepted (or refused).
 */
import { SendMessageBatchCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH_ENTRIES, SQS_MAX_BATCH_BYTES, SQS_MAX_MESSAGE_BYTES } from '../aws/sqs-limits';
import { Linger } from './linger';
import type { OutgoingMessage } from './sender';

/** SQS did not take a message: `code` is SQS's (or MessageTooLarge / RetriesExhausted, ours). */
export class MessageRefusedError extends Error {
  override name = 'MessageRefusedError';
  constructor(
    readonly queueUrl: string,
    readonly code: string,
    detail: string,
  ) {
    super(`SQS refused a message for ${queueUrl}: ${code} ${detail}`);
  }
}

/** Told of each SendMessageBatch call (metrics): its entry count and how many SQS refused. */
export interface BatchObserver {
  batchSent(queue: string, entries: number, failed: number): void;
}

export interface BatchingSenderOptions {
  /** ms a message may wait for others bound for an idle queue (SEND_BATCH_WINDOW_MS); 0: the next tick. */
  windowMs: number;
  /**
   * ms a partial batch may wait for others bound for a busy queue, one whose previous batch went at
   * most this long ago (SEND_BATCH_LINGER_MS); below `windowMs` it is `windowMs`. Default: `windowMs`
   * (no linger).
   */
  lingerMs?: number;
  /** Attempts per entry for transient failures (default 5), with backoff 100, 200, 400 … ms. */
  maxAttempts?: number;
  observer?: BatchObserver;
}

interface Entry {
  message: OutgoingMessage;
  bytes: number;
  attempt: number;
  done: (error?: Error) => void;
}

interface QueueBuffer {
  url: string;
  fifo: boolean;
  waiting: Entry[];
  timer: NodeJS.Timeout | undefined;
  /** When its previous batch went: how long the next partial batch may wait. */
  linger: Linger;
  /** FIFO: the batch in flight, the next one goes after it. */
  tail: Promise<void>;
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** A message's size as SQS counts it: the body plus each attribute's name, type and value. */
export function messageBytes(message: OutgoingMessage): number {
  let bytes = utf8(message.body);
  for (const [name, value] of Object.entries(message.attributes ?? {}))
    bytes += utf8(name) + utf8('String') + utf8(value);
  return bytes;
}

function toAttributes(
  attributes: Record<string, string> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [
      k,
      { DataType: 'String', StringValue: v } satisfies MessageAttributeValue,
    ]),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A whole-call failure SQS blames on the request (not throttling): retrying it as is cannot help. */
function isClientFault(error: unknown): boolean {
  const e = error as { $fault?: string; name?: string };
  return e.$fault === 'client' && !/Throttl|RequestThrottled|OverLimit/i.test(e.name ?? '');
}

export class BatchingSender {
  private readonly buffers = new Map<string, QueueBuffer>();
  private readonly maxAttempts: number;
  private readonly lingerMs: number;
  /** Set by flush(): the process is stopping, so no partial batch waits for company any more. */
  private stopping = false;

  /** @throws RangeError when windowMs or lingerMs is not a non-negative integer. */
  constructor(
    private readonly sqs: SQSClient,
    private readonly options: BatchingSenderOptions,
  ) {
    if (!Number.isInteger(options.windowMs) || options.windowMs < 0)
      throw new RangeError(`windowMs must be a non-negative integer, got ${options.windowMs}`);
    this.maxAttempts = options.maxAttempts ?? 5;
    const lingerMs = options.lingerMs ?? options.windowMs;
    if (!Number.isInteger(lingerMs) || lingerMs < 0)
      throw new RangeError(`lingerMs must be a non-negative integer, got ${lingerMs}`);
    // A busy queue never waits less than an idle one.
    this.lingerMs = Math.max(lingerMs, options.windowMs);
  }

  /**
   * Sends every partial batch now, and from now on sends without waiting for company (the next
   * tick): for a stopping process, so that its last sends do not wait. Resolves once the batches it
   * sent were accepted or refused (each caller still learns its own outcome from send()).
   */
  async flush(): Promise<void> {
    this.stopping = true;
    const sent: Array<Promise<void>> = [];
    for (const buffer of this.buffers.values()) {
      if (buffer.waiting.length === 0) continue;
      sent.push(
        ...buffer.waiting.map(
          (entry) =>
            new Promise<void>((settled) => {
              const done = entry.done;
              entry.done = (error) => (done(error), settled());
            }),
        ),
      );
      this.sendNow(buffer);
    }
    await Promise.all(sent);
  }

  /**
   * Sends `messages` to `queueUrl` together with whatever else is bound there. Resolves once SQS
   * accepted all of them; rejects with the first MessageRefusedError otherwise, after every one of
   * them was either accepted or refused (so the caller knows the others went).
   */
  async send(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const outcomes = await Promise.allSettled(messages.map((m) => this.enqueue(queueUrl, m)));
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) throw refused.reason;
  }

  private enqueue(queueUrl: string, message: OutgoingMessage): Promise<void> {
    const bytes = messageBytes(message);
    if (bytes > SQS_MAX_MESSAGE_BYTES)
      return Promise.reject(
        new MessageRefusedError(queueUrl, 'MessageTooLarge', `${bytes} bytes, at most ${SQS_MAX_MESSAGE_BYTES}`),
      );
    const buffer = this.buffer(queueUrl);
    return new Promise<void>((resolve, reject) => {
      buffer.waiting.push({ message, bytes, attempt: 0, done: (error) => (error ? reject(error) : resolve()) });
      this.schedule(buffer);
    });
  }

  private buffer(url: string): QueueBuffer {
    let buffer = this.buffers.get(url);
    if (!buffer) {
      buffer = {
        url,
        fifo: url.endsWith('.fifo'),
        waiting: [],
        timer: undefined,
        linger: new Linger({ idleMs: this.options.windowMs, busyMs: this.lingerMs }),
        tail: Promise.resolve(),
      };
      this.buffers.set(url, buffer);
    }
    return buffer;
  }

  /** Full: send now. Otherwise within the linger's delay (windowMs idle, lingerMs busy) of the first waiting entry. */
  private schedule(buffer: QueueBuffer): void {
    if (buffer.waiting.length === 0) return;
    if (this.nextBatchIsFull(buffer)) {
      this.sendNow(buffer);
      return;
    }
    buffer.timer ??= setTimeout(() => this.sendNow(buffer), this.stopping ? 0 : buffer.linger.delayMs());
  }

  private nextBatchIsFull(buffer: QueueBuffer): boolean {
    if (buffer.waiting.length >= SQS_MAX_BATCH_ENTRIES) return true;
    const bytes = buffer.waiting.reduce((sum, e) => sum + e.bytes, 0);
    return bytes >= SQS_MAX_BATCH_BYTES;
  }

  /** Sends the buffer's next batch, and the ones after it while they are full. */
  private sendNow(buffer: QueueBuffer): void {
    if (buffer.timer) clearTimeout(buffer.timer);
    buffer.timer = undefined;
    if (buffer.waiting.length > 0) buffer.linger.flushed();
    while (buffer.waiting.length > 0) {
      const batch = this.take(buffer);
      if (buffer.fifo) buffer.tail = buffer.tail.then(() => this.sendBatch(buffer.url, batch));
      else void this.sendBatch(buffer.url, batch);
      // What is left over waits for its own window unless it fills a batch again.
      if (!this.nextBatchIsFull(buffer)) break;
    }
    this.schedule(buffer);
  }

  /** The next batch: up to 10 entries and 256 KiB; on a FIFO queue one entry per group, in order. */
  private take(buffer: QueueBuffer): Entry[] {
    const batch: Entry[] = [];
    const groups = new Set<string>();
    let bytes = 0;
    const rest: Entry[] = [];
    for (const entry of buffer.waiting) {
      const group = entry.message.groupId;
      const fits =
        batch.length < SQS_MAX_BATCH_ENTRIES &&
        bytes + entry.bytes <= SQS_MAX_BATCH_BYTES &&
        !(buffer.fifo && group !== undefined && groups.has(group));
      if (fits) {
        batch.push(entry);
        bytes += entry.bytes;
        if (group !== undefined) groups.add(group);
      } else {
        rest.push(entry);
        // A group's later messages stay behind its earlier one.
        if (group !== undefined) groups.add(group);
      }
    }
    buffer.waiting = rest;
    return batch;
  }

  /** Sends one batch; retries transient per-entry failures; settles every entry. Never rejects. */
  private async sendBatch(queueUrl: string, batch: Entry[]): Promise<void> {
    let pending = batch;
    while (pending.length > 0) {
      for (const entry of pending) entry.attempt += 1;
      let failed: Array<{ entry: Entry; code: string; detail: string; senderFault: boolean }>;
      try {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: pending.map((e, i) => ({
              Id: String(i),
              MessageBody: e.message.body,
              MessageGroupId: e.message.groupId,
              MessageDeduplicationId: e.message.deduplicationId,
              DelaySeconds: e.message.delaySeconds,
              MessageAttributes: toAttributes(e.message.attributes),
            })),
          }),
        );
        const sent = new Set((out.Successful ?? []).map((s) => s.Id));
        const refused = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        failed = [];
        pending.forEach((entry, i) => {
          const id = String(i);
          if (sent.has(id) && !refused.has(id)) return entry.done();
          const f = refused.get(id);
          // Neither in Successful nor in Failed: not known to be sent, so not reported sent.
          failed.push({
            entry,
            code: f?.Code ?? 'NotAcknowledged',
            detail: f?.Message ?? '',
            senderFault: f?.SenderFault ?? false,
          });
        });
        this.options.observer?.batchSent(queueUrl, pending.length, failed.length);
      } catch (error) {
        this.options.observer?.batchSent(queueUrl, pending.length, pending.length);
        if (pending.length > 1 && isClientFault(error)) {
          // One bad entry may spoil a whole batch: send each alone, so it fails only its own caller.
          await Promise.all(pending.map((entry) => this.sendBatch(queueUrl, [entry])));
          return;
        }
        const name = (error as Error).name ?? 'Error';
        failed = pending.map((entry) => ({
          entry,
          code: name,
          detail: (error as Error).message ?? String(error),
          senderFault: isClientFault(error),
        }));
      }
      pending = [];
      for (const f of failed) {
        if (f.senderFault) f.entry.done(new MessageRefusedError(queueUrl, f.code, f.detail));
        else if (f.entry.attempt >= this.maxAttempts)
          f.entry.done(new MessageRefusedError(queueUrl, f.code, `${f.detail} (after ${f.entry.attempt} attempts)`));
        else pending.push(f.entry);
      }
      if (pending.length > 0) await sleep(50 * 2 ** Math.min(pending[0].attempt, 6));
    }
  }
}
