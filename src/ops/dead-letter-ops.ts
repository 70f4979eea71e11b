/**
 * Operating the dead-letter queues: look at what is there, send messages back where they came
 * from, or drop them.
 *
 * Two DLQs: `ticket-dlq`, where the consumers move poison messages themselves (with the reason,
 * the source queue, group and deduplication ids as message attributes, see
 * src/messaging/dead-letters.ts) and where SQS's own redrive of the standard queues lands; and
 * `ticket-dlq.fifo`, SQS's redrive target for the saga FIFO queue. A message SQS moved carries
 * only its original attributes: its reason is "exceeded maxReceiveCount", its source the
 * DeadLetterQueueSourceArn system attribute where SQS gives one, else what its body is (a saga
 * event or a timer or a participant command goes back to the queue that carries those).
 *
 * SQS has no peek. A look receives with a short visibility timeout, deletes nothing, and makes
 * what it saw visible again at once. Every receive adds one to a message's receive count; the
 * DLQs have no redrive of their own, so that is harmless. Two operators looking at the same
 * moment may hide messages from each other for a few seconds.
 *
 * A redrive sends first and deletes from the DLQ only once the send succeeded: at worst a
 * message exists twice, and every receiver deduplicates. Back on a FIFO queue a message needs a
 * new deduplication id, or SQS drops it when the original was sent less than 5 minutes ago.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueKey } from '../infra/resources';
import { DLQ_ATTRIBUTES } from '../messaging/dead-letters';
import { parseCommandEnvelope, parseSagaEventEnvelope, parseTimerEnvelope } from '../messaging/envelopes';
import { isFifoUrl, type QueueUrls } from '../messaging/queues';
import { sendMessages } from '../messaging/sender';
import type { Logger } from '../observability/logger';
import { deduplicationId, QUEUE_FOR_COMMAND } from '../runtime/routing';
import type { SagaStore } from '../store/saga-store';
import { recordOperatorAction, type OperatorRequest } from './stuck-sagas';

/** The DLQs by their base names (without the resource prefix). */
export type DeadLetterQueueName = 'ticket-dlq' | 'ticket-dlq.fifo';
type DlqKey = Extract<QueueKey, 'dlq' | 'dlqFifo'>;
const DLQS: ReadonlyArray<{ key: DlqKey; name: DeadLetterQueueName }> = [
  { key: 'dlq', name: 'ticket-dlq' },
  { key: 'dlqFifo', name: 'ticket-dlq.fifo' },
];

export const SQS_REDRIVE_REASON = 'exceeded maxReceiveCount';

export interface DeadLetterView {
  /** The DLQ message's MessageId: what redrive and delete take. */
  id: string;
  queue: DeadLetterQueueName;
  reason: string;
  /** Name of the queue it came from (and goes back to on a redrive); null when unknown. */
  sourceQueue: string | null;
  /** When it was dead-lettered, where known. */
  failedAt: string | null;
  /** Receives on its source queue before it was dead-lettered, where known. */
  receiveCount: number | null;
  correlationId: string | null;
  /** Its FIFO message group (the order id for saga events), where it has one. */
  groupId: string | null;
  /** The body, parsed when it is JSON, else the raw text. */
  body: unknown;
}

export interface RedriveResult {
  /** Sent back to their source queue and deleted from the DLQ. */
  redriven: string[];
  /** Not found on either DLQ (gone, or held by someone else right now). */
  notFound: string[];
  /** Found but not redriven (no known source, or the send failed); they stay on the DLQ. */
  failed: Array<{ id: string; reason: string }>;
}

export interface DeadLetterOpsDeps {
  sqs: SQSClient;
  queues: QueueUrls;
  logger: Logger;
  /** With a store, an action on a message that names an existing saga is also recorded on it. */
  store?: SagaStore;
  /** Long-poll wait of each receive; 1 s lets SQS look at every server before saying "empty". */
  waitSeconds?: number;
  now?: () => Date;
}

/** Held while a look pages through a queue; released (visibility 0) right after. */
const PEEK_VISIBILITY_SECONDS = 10;
/** Held while a redrive or delete works on what it received; what it leaves is released. */
const WORK_VISIBILITY_SECONDS = 30;
/** Most messages one redrive moves when no ids are given. */
export const MAX_REDRIVE = 100;
/** Most messages one search receives before it gives up on the ids it looks for. */
const MAX_SEARCH = 1000;
const DLQ_ATTRIBUTE_NAMES = new Set<string>(Object.values(DLQ_ATTRIBUTES));

interface Received {
  key: DlqKey;
  message: Message;
}

interface Target {
  key: QueueKey;
  url: string;
  groupId?: string;
}

export class DeadLetterOps {
  private readonly now: () => Date;

  constructor(private readonly deps: DeadLetterOpsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Up to `limit` dead letters from both DLQs, oldest first; nothing is deleted. */
  async list(limit: number): Promise<DeadLetterView[]> {
    const received = (
      await Promise.all(DLQS.map(({ key }) => this.receive(key, limit, PEEK_VISIBILITY_SECONDS)))
    ).flat();
    await this.release(received);
    return received
      .sort((a, b) => sentAt(a.message) - sentAt(b.message))
      .slice(0, limit)
      .map((r) => this.view(r));
  }

  /**
   * Sends the given dead letters (or all, up to MAX_REDRIVE) back to their source queues, then
   * deletes them from the DLQ.
   */
  async redrive(ids: readonly string[] | undefined, operator: OperatorRequest): Promise<RedriveResult> {
    const result: RedriveResult = { redriven: [], notFound: [], failed: [] };
    const unresolved = new Set(ids ?? []);
    for (const { key } of DLQS) {
      const budget = ids === undefined ? MAX_REDRIVE - result.redriven.length : MAX_SEARCH;
      if (budget <= 0 || (ids !== undefined && unresolved.size === 0)) break;
      const received = await this.receive(
        key,
        budget,
        WORK_VISIBILITY_SECONDS,
        ids === undefined ? undefined : unresolved,
      );
      const leftOver: Received[] = [];
      for (const r of received) {
        const id = r.message.MessageId ?? '';
        if (ids !== undefined && !unresolved.has(id)) {
          leftOver.push(r);
          continue;
        }
        unresolved.delete(id);
        const failure = await this.redriveOne(r, operator);
        if (failure === undefined) result.redriven.push(id);
        else {
          result.failed.push({ id, reason: failure });
          leftOver.push(r);
        }
      }
      await this.release(leftOver);
    }
    result.notFound = [...unresolved];
    this.deps.logger.info('operator redrive of dead letters', {
      operator: operator.by,
      reason: operator.reason,
      asked: ids ?? 'all',
      redriven: result.redriven,
      notFound: result.notFound,
      failed: result.failed,
    });
    return result;
  }

  /** Deletes one dead letter; returns what it was, or undefined when it is not found. */
  async delete(id: string, operator: OperatorRequest): Promise<DeadLetterView | undefined> {
    const wanted = new Set([id]);
    for (const { key } of DLQS) {
      const received = await this.receive(key, MAX_SEARCH, WORK_VISIBILITY_SECONDS, wanted);
      const found = received.find((r) => r.message.MessageId === id);
      await this.release(received.filter((r) => r !== found));
      if (!found) continue;
      const view = this.view(found);
      await this.deps.sqs.send(
        new DeleteMessageCommand({ QueueUrl: this.deps.queues[key], ReceiptHandle: found.message.ReceiptHandle }),
      );
      this.deps.logger.info('operator deleted a dead letter', {
        operator: operator.by,
        reason: operator.reason,
        messageId: id,
        queue: view.queue,
        deadLetterReason: view.reason,
        sourceQueue: view.sourceQueue,
        correlationId: view.correlationId ?? undefined,
        body: found.message.Body,
      });
      await this.recordOnSaga(found, 'OPERATOR_DLQ_DELETE', operator, {});
      return view;
    }
    return undefined;
  }

  /** Receives up to `max` messages (all distinct), stopping early once every wanted id is seen. */
  private async receive(
    key: DlqKey,
    max: number,
    visibilitySeconds: number,
    wanted?: ReadonlySet<string>,
  ): Promise<Received[]> {
    const seen = new Map<string, Received>();
    const found = () => wanted !== undefined && [...wanted].every((id) => seen.has(id));
    while (seen.size < max && !found()) {
      const out = await this.deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.deps.queues[key],
          MaxNumberOfMessages: Math.min(10, max - seen.size),
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: this.deps.waitSeconds ?? 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      let fresh = 0;
      for (const message of messages) {
        const id = message.MessageId ?? '';
        if (seen.has(id)) continue; // came back: its visibility ran out while we paged
        seen.set(id, { key, message });
        fresh++;
      }
      if (fresh === 0) break;
    }
    return [...seen.values()];
  }

  /** Makes messages received but not acted on visible again at once. */
  private async release(received: readonly Received[]): Promise<void> {
    for (const { key } of DLQS) {
      const mine = received.filter((r) => r.key === key);
      for (let i = 0; i < mine.length; i += 10) {
        const batch = mine.slice(i, i + 10);
        try {
          const { Failed = [] } = await this.deps.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.deps.queues[key],
              Entries: batch.map((r, n) => ({
                Id: String(n),
                ReceiptHandle: r.message.ReceiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          );
          if (Failed.length > 0)
            this.deps.logger.warn('some dead letters stay hidden until their visibility runs out', {
              failed: Failed.length,
            });
        } catch (error) {
          this.deps.logger.warn('could not release dead letters; they reappear when their visibility runs out', {
            error: String(error),
          });
        }
      }
    }
  }

  /** Sends one dead letter back and deletes it. Returns why not, when it could not. */
  private async redriveOne(r: Received, operator: OperatorRequest): Promise<string | undefined> {
    const { message, key } = r;
    const id = message.MessageId ?? '';
    const target = this.targetOf(r);
    if (typeof target === 'string') return target;
    const attributes = passThroughAttributes(message);
    const body = message.Body ?? '';
    try {
      if (isFifoUrl(target.url)) {
        const original =
          attribute(message, DLQ_ATTRIBUTES.deduplicationId) ??
          message.Attributes?.MessageDeduplicationId ??
          attribute(message, DLQ_ATTRIBUTES.originalMessageId) ??
          id;
        await sendMessages(this.deps.sqs, target.url, [
          {
            body,
            groupId: target.groupId,
            deduplicationId: deduplicationId(`${original}:redrive:${this.now().getTime()}`),
            attributes,
          },
        ]);
      } else {
        await sendMessages(this.deps.sqs, target.url, [{ body, attributes }]);
      }
    } catch (error) {
      this.deps.logger.error('redrive send failed; the dead letter stays', { messageId: id, error: String(error) });
      return `send to ${queueName(target.url)} failed: ${(error as Error).message}`;
    }
    try {
      await this.deps.sqs.send(
        new DeleteMessageCommand({ QueueUrl: this.deps.queues[key], ReceiptHandle: message.ReceiptHandle }),
      );
    } catch (error) {
      // Sent but still on the DLQ: a second redrive would deliver it twice, which receivers tolerate.
      this.deps.logger.warn('redriven dead letter could not be deleted from the DLQ', {
        messageId: id,
        error: String(error),
      });
    }
    this.deps.logger.info('operator redrove a dead letter', {
      operator: operator.by,
      reason: operator.reason,
      messageId: id,
      queue: queueName(this.deps.queues[key]),
      to: queueName(target.url),
      deadLetterReason: attribute(message, DLQ_ATTRIBUTES.reason) ?? SQS_REDRIVE_REASON,
      correlationId: attribute(message, DLQ_ATTRIBUTES.correlationId),
    });
    await this.recordOnSaga(r, 'OPERATOR_DLQ_REDRIVE', operator, { to: queueName(target.url) });
    return undefined;
  }

  /** Where a dead letter goes back to: one of this service's work queues, never anywhere else. */
  private targetOf(r: Received): Target | string {
    const { message, key } = r;
    const sourceUrl = attribute(message, DLQ_ATTRIBUTES.sourceQueueUrl);
    let source: QueueKey | undefined;
    if (sourceUrl !== undefined) {
      source = this.queueKeyByName(queueName(sourceUrl));
      if (!source) return `its source queue ${queueName(sourceUrl)} is not one of this service's queues`;
    } else {
      const arn = message.Attributes?.DeadLetterQueueSourceArn;
      source = arn ? this.queueKeyByName(arn.split(':').at(-1) ?? '') : undefined;
      source ??= key === 'dlqFifo' ? 'saga' : sourceFromBody(message.Body ?? '');
      if (!source) return 'its source queue is unknown (no sourceQueueUrl attribute, and its body names none)';
    }
    if (source === 'dlq' || source === 'dlqFifo') return 'its source is a dead-letter queue';
    const url = this.deps.queues[source];
    if (!isFifoUrl(url)) return { key: source, url };
    const groupId =
      attribute(message, DLQ_ATTRIBUTES.groupId) ?? message.Attributes?.MessageGroupId ?? orderIdOf(message.Body ?? '');
    if (!groupId) return `it has no message group id for the FIFO queue ${queueName(url)}`;
    return { key: source, url, groupId };
  }

  private queueKeyByName(name: string): QueueKey | undefined {
    return (Object.entries(this.deps.queues) as Array<[QueueKey, string]>).find(
      ([, url]) => queueName(url) === name,
    )?.[0];
  }

  private view(r: Received): DeadLetterView {
    const { message, key } = r;
    const ours =
      attribute(message, DLQ_ATTRIBUTES.sourceQueueUrl) !== undefined ||
      attribute(message, DLQ_ATTRIBUTES.reason) !== undefined;
    const target = this.targetOf(r);
    const receiveCount = Number(attribute(message, DLQ_ATTRIBUTES.receiveCount));
    return {
      id: message.MessageId ?? '',
      queue: key === 'dlq' ? 'ticket-dlq' : 'ticket-dlq.fifo',
      reason: attribute(message, DLQ_ATTRIBUTES.reason) ?? (ours ? 'unknown' : SQS_REDRIVE_REASON),
      sourceQueue: typeof target === 'string' ? sourceNameOf(message) : queueName(target.url),
      failedAt: attribute(message, DLQ_ATTRIBUTES.failedAt) ?? null,
      receiveCount: Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : null,
      correlationId: attribute(message, DLQ_ATTRIBUTES.correlationId) ?? null,
      groupId: attribute(message, DLQ_ATTRIBUTES.groupId) ?? message.Attributes?.MessageGroupId ?? null,
      body: parseBody(message.Body ?? ''),
    };
  }

  /** Best effort: an action on a message about an existing saga is also written in its history. */
  private async recordOnSaga(
    r: Received,
    eventType: string,
    operator: OperatorRequest,
    extra: Record<string, unknown>,
  ): Promise<void> {
    const store = this.deps.store;
    const orderId = orderIdOf(r.message.Body ?? '');
    if (!store || !orderId) return;
    try {
      await recordOperatorAction(
        store,
        orderId,
        () => ({
          eventId: `operator:dlq:${r.message.MessageId ?? ''}:${eventType}`,
          eventType,
          payload: {
            by: operator.by,
            reason: operator.reason,
            messageId: r.message.MessageId ?? '',
            queue: queueName(this.deps.queues[r.key]),
            ...extra,
          },
          actor: operator.by,
        }),
        this.now,
      );
    } catch (error) {
      this.deps.logger.warn('could not record the dead-letter action on its saga', { orderId, error: String(error) });
    }
  }
}

function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

/** The message's own attributes (not the DLQ's bookkeeping), to send along on a redrive. */
function passThroughAttributes(message: Message): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue === undefined || (DLQ_ATTRIBUTE_NAMES.has(name) && name !== DLQ_ATTRIBUTES.correlationId))
      continue;
    out[name] = value.StringValue;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const queueName = (url: string): string => url.split('/').at(-1) ?? url;

function sentAt(message: Message): number {
  return Number(message.Attributes?.SentTimestamp ?? 0);
}

function sourceNameOf(message: Message): string | null {
  const url = attribute(message, DLQ_ATTRIBUTES.sourceQueueUrl);
  if (url) return queueName(url);
  const arn = message.Attributes?.DeadLetterQueueSourceArn;
  return arn ? (arn.split(':').at(-1) ?? null) : null;
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** Which queue carries a body like this one, when it is one of our envelopes. */
function sourceFromBody(body: string): QueueKey | undefined {
  const command = parseCommandEnvelope(body);
  if (command.ok) return QUEUE_FOR_COMMAND[command.value.command.kind];
  if (parseSagaEventEnvelope(body).ok) return 'saga';
  if (parseTimerEnvelope(body).ok) return 'timer';
  return undefined;
}

/** The order a body is about, when it is one of our envelopes. */
function orderIdOf(body: string): string | undefined {
  const event = parseSagaEventEnvelope(body);
  if (event.ok) return event.value.orderId;
  const command = parseCommandEnvelope(body);
  if (command.ok) return command.value.command.orderId;
  const timer = parseTimerEnvelope(body);
  if (timer.ok) return timer.value.orderId;
  return undefined;
}
