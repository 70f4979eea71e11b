/**
 * Sends a saga's commands and events to their queues. Commands go to the participants' standard
 * queues; a ScheduleHoldExpiry becomes a delayed timer message; saga events go to the FIFO queue
 * in the saga's own group. Everything is re-sendable: ids are deterministic and every receiver
 * deduplicates.
 *
 * Sends go through a BatchingSender (src/messaging/batching-sender.ts): commands of different sagas
 * bound for one queue share SendMessageBatch calls. A send resolves only once SQS accepted every
 * message of it; otherwise it rejects, and the caller's outbox stays pending (the runtime leaves its
 * input message undeleted; the sweeper re-sends stalled outboxes).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { OrderSagaEvent, SagaCommand } from '../../machines/order-saga';
import type { CommandEnvelope, SagaEventEnvelope, TimerEnvelope } from '../messaging/envelopes';
import type { QueueUrls } from '../messaging/queues';
import { BatchingSender } from '../messaging/batching-sender';
import type { OutgoingMessage } from '../messaging/sender';
import { DEFAULT_SEND_BATCH_LINGER_MS, DEFAULT_SEND_BATCH_WINDOW_MS } from '../config/ranges';
import {
  deduplicationId,
  delaySecondsUntil,
  holdExpiredEventId,
  holdReminderEventId,
  QUEUE_FOR_COMMAND,
} from './routing';

export class Dispatcher {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: QueueUrls,
    private readonly now: () => Date = () => new Date(),
    /**
     * Shared by every send of this process; default: a 2-ms window when idle, up to 20 ms when busy
     * (SEND_BATCH_WINDOW_MS, SEND_BATCH_LINGER_MS).
     */
    private readonly sender: BatchingSender = new BatchingSender(sqs, {
      windowMs: DEFAULT_SEND_BATCH_WINDOW_MS,
      lingerMs: DEFAULT_SEND_BATCH_LINGER_MS,
    }),
  ) {}

  /** Stopping: sends what waits for company now, and every later send at once (BatchingSender.flush). */
  flush(): Promise<void> {
    return this.sender.flush();
  }

  async sendCommands(commands: readonly SagaCommand[], correlationId: string): Promise<void> {
    const byQueue = new Map<string, OutgoingMessage[]>();
    for (const command of commands) {
      const url = this.queues[QUEUE_FOR_COMMAND[command.kind]];
      const message =
        command.kind === 'ScheduleHoldExpiry' || command.kind === 'ScheduleHoldReminder'
          ? this.timerMessage(command, correlationId)
          : commandMessage(command, correlationId);
      byQueue.set(url, [...(byQueue.get(url) ?? []), message]);
    }
    // allSettled: every queue's messages are tried before the first refusal is reported.
    const outcomes = await Promise.allSettled([...byQueue].map(([url, messages]) => this.sender.send(url, messages)));
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) throw refused.reason;
  }

  async sendSagaEvent(orderId: string, eventId: string, event: OrderSagaEvent, correlationId: string): Promise<void> {
    const envelope: SagaEventEnvelope = { type: 'saga-event', eventId, orderId, correlationId, event };
    await this.sender.send(this.queues.saga, [
      {
        body: JSON.stringify(envelope),
        groupId: orderId,
        deduplicationId: deduplicationId(eventId),
        attributes: { correlationId },
      },
    ]);
  }

  /** A timer hop: delayed up to 15 minutes; the timer worker re-delays until dueAt. */
  async sendTimer(timer: TimerEnvelope): Promise<void> {
    await this.sender.send(this.queues.timer, [this.delayed(timer)]);
  }

  /** A timer command becomes the event it raises when due: HOLD_EXPIRED, or (machine v3) HOLD_REMINDER_DUE. */
  private timerMessage(
    command: Extract<SagaCommand, { kind: 'ScheduleHoldExpiry' | 'ScheduleHoldReminder' }>,
    correlationId: string,
  ): OutgoingMessage {
    const expiry = command.kind === 'ScheduleHoldExpiry';
    return this.delayed({
      type: 'timer',
      orderId: command.orderId,
      correlationId,
      dueAt: command.dueAt,
      eventId: expiry ? holdExpiredEventId(command.orderId) : holdReminderEventId(command.orderId),
      event: { type: expiry ? 'HOLD_EXPIRED' : 'HOLD_REMINDER_DUE' },
    });
  }

  private delayed(timer: TimerEnvelope): OutgoingMessage {
    return {
      body: JSON.stringify(timer),
      delaySeconds: delaySecondsUntil(timer.dueAt, this.now()),
      attributes: { correlationId: timer.correlationId },
    };
  }
}

function commandMessage(command: SagaCommand, correlationId: string): OutgoingMessage {
  const envelope: CommandEnvelope = { type: 'command', correlationId, command };
  return { body: JSON.stringify(envelope), attributes: { correlationId } };
}
