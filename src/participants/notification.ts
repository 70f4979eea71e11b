/**
 * The notification participant. Sending is simulated: the send is the Notifications record, keyed
 * by the command id, so a re-delivered command finds it and sends nothing twice.
 */
import type { OrderSagaEvent } from '../../machines/order-saga/types';
import type { NotificationCommand } from './commands';
import { nowIso, type ParticipantDeps } from './deps';
import { putIfAbsent } from './retries';
import { PermanentCommandError } from './errors';
import type { NotificationRecord } from './records';

export async function handleNotificationCommand(
  cmd: NotificationCommand,
  deps: ParticipantDeps,
): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  if (typeof cmd.commandId !== 'string' || cmd.commandId.length === 0) {
    throw new PermanentCommandError('invalid-command', `${cmd.kind} for order ${cmd.orderId} has no command id`);
  }
  const record: NotificationRecord = {
    notificationId: cmd.commandId,
    orderId: cmd.orderId,
    customerId: cmd.customerId,
    template: cmd.template,
    ...(cmd.kind === 'SendNotification' ? { outcome: cmd.outcome } : { expiresAt: cmd.expiresAt }),
    sentAt: nowIso(deps),
  };
  if (await putIfAbsent(deps, deps.tables.notifications, 'notificationId', record)) {
    log.info('notification sent', {
      notificationId: record.notificationId,
      template: cmd.template,
      outcome: record.outcome,
    });
  } else {
    log.info('notification already sent', { notificationId: record.notificationId });
  }
  // A reminder's answer has its own type: a late one must never read as the final notice's.
  if (cmd.kind === 'SendHoldReminder') return { type: 'HOLD_REMINDER_SENT', notificationId: record.notificationId };
  return { type: 'NOTIFICATION_SENT', notificationId: record.notificationId };
}
