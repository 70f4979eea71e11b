/** Which queue carries which command, and the ids of the events that answer them. */
import type { SagaCommand, SagaCommandKind } from '../../machines/order-saga';
import type { QueueKey } from '../infra/resources';

export const QUEUE_FOR_COMMAND: Record<SagaCommandKind, QueueKey> = {
  ReserveSeats: 'inventory',
  ConfirmSeats: 'inventory',
  ReleaseSeats: 'inventory',
  ChargePayment: 'payment',
  VoidPayment: 'payment',
  RefundPayment: 'payment',
  SendNotification: 'notification',
  ScheduleHoldExpiry: 'timer',
  ScheduleHoldReminder: 'timer',
  SendHoldReminder: 'notification',
};

/** FIFO deduplication ids are at most 128 characters of [A-Za-z0-9] and punctuation. */
export function deduplicationId(eventId: string): string {
  return eventId.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '_').slice(-128);
}

/** The id of a participant's reply to a command: the same for every delivery of it. */
export const replyEventId = (commandId: string): string => `${commandId}:reply`;

export const holdExpiredEventId = (orderId: string): string => `${orderId}:HOLD_EXPIRED`;

export const holdReminderEventId = (orderId: string): string => `${orderId}:HOLD_REMINDER_DUE`;

/**
 * The id of the event that answers `command`: its participant's reply, or the event its timer
 * raises when due. Once that event is applied the command has done its work: re-sending it would
 * only ask again (for a timer: fire again at once, its due time being past).
 */
export function answerEventId(command: SagaCommand): string {
  if (command.kind === 'ScheduleHoldExpiry') return holdExpiredEventId(command.orderId);
  if (command.kind === 'ScheduleHoldReminder') return holdReminderEventId(command.orderId);
  return replyEventId(command.commandId);
}

/** SQS caps a message's delay at 15 minutes; longer timers hop. */
export const MAX_DELAY_SECONDS = 900;

export function delaySecondsUntil(dueAt: string, now: Date): number {
  const seconds = Math.ceil((Date.parse(dueAt) - now.getTime()) / 1000);
  return Math.max(0, Math.min(MAX_DELAY_SECONDS, seconds));
}
